import type { specialtyGroups as serverGroups } from '../../shared/domain/vocabulary.js';

// The server's module builds zod schemas as it loads, and would bring zod (~400 KiB) into the bundle:
// the console keeps its own copy of the groups, and the type check below fails the day they differ.
export const specialtyGroups = {
  research: ['academic_researcher', 'web_intelligence_gatherer', 'news_trends_analyzer', 'competitive_intelligence', 'social_media_monitor'],
  analysis: ['data_analyst', 'statistical_modeler', 'pattern_recognition_expert', 'risk_assessment_specialist', 'financial_performance_analyst'],
  creative: ['graphics_diagram_designer', 'content_writer_editor', 'presentation_formatter', 'media_video_producer', 'infographic_creator'],
  technical: ['code_reviewer_optimizer', 'system_architect', 'security_analyst', 'performance_engineer', 'devops_specialist'],
  investigation: [
    'digital_forensics_expert',
    'network_security_analyzer',
    'reverse_engineering_specialist',
    'case_investigation_manager',
    'evidence_compilation_expert',
  ],
  qa: ['fact_checker_validator', 'output_quality_controller', 'compliance_reviewer', 'error_detection_specialist', 'final_delivery_approver'],
} as const;

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export const groupsMatchServer: Same<typeof specialtyGroups, typeof serverGroups> = true;
