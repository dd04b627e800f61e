import { z } from 'zod';

/** The domain vocabulary of ../shared/seed/amas-spec.md, defined once. */

export const complexitySchema = z.enum(['SIMPLE', 'MODERATE', 'COMPLEX', 'ENTERPRISE', 'INVESTIGATION']);
export type Complexity = z.infer<typeof complexitySchema>;

export const layerSchema = z.enum(['EXECUTIVE', 'MANAGEMENT', 'SPECIALIST', 'EXECUTION']);
export type Layer = z.infer<typeof layerSchema>;

export const executiveRoles = ['task_coordinator', 'quality_supervisor'] as const;
export const managementRoles = [
  'research_team_lead',
  'analysis_team_lead',
  'creative_team_lead',
  'qa_team_lead',
  'technical_team_lead',
  'integration_team_lead',
] as const;
export const executionRoles = ['tool_manager', 'integration_agent', 'automation_agent', 'api_gateway', 'task_scheduler'] as const;

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

export type SpecialtyGroup = keyof typeof specialtyGroups;
export const specialtyGroupSchema = z.enum(['research', 'analysis', 'creative', 'technical', 'investigation', 'qa']);

export const specialtySchema = z.enum([
  ...specialtyGroups.research,
  ...specialtyGroups.analysis,
  ...specialtyGroups.creative,
  ...specialtyGroups.technical,
  ...specialtyGroups.investigation,
  ...specialtyGroups.qa,
]);
export type Specialty = z.infer<typeof specialtySchema>;
export const allSpecialties: readonly Specialty[] = specialtySchema.options;

export function groupOf(specialty: Specialty): SpecialtyGroup {
  for (const [group, members] of Object.entries(specialtyGroups) as [SpecialtyGroup, readonly string[]][]) {
    if (members.includes(specialty)) return group;
  }
  throw new Error(`unknown specialty ${specialty}`);
}

/** The management lead responsible for each specialty group. */
export const leadRoleOf: Record<SpecialtyGroup, (typeof managementRoles)[number]> = {
  research: 'research_team_lead',
  analysis: 'analysis_team_lead',
  creative: 'creative_team_lead',
  technical: 'technical_team_lead',
  investigation: 'integration_team_lead',
  qa: 'qa_team_lead',
};

export const agentStatusSchema = z.enum(['AVAILABLE', 'BUSY', 'OVERLOADED', 'OFFLINE', 'FAILED', 'MAINTENANCE']);
export type AgentStatus = z.infer<typeof agentStatusSchema>;

/** API-facing workflow status (lower case; the spec's EXECUTING is `running`). */
export const workflowStatusSchema = z.enum(['pending', 'planned', 'awaiting_approval', 'running', 'paused', 'completed', 'failed', 'cancelled']);
export type WorkflowStatus = z.infer<typeof workflowStatusSchema>;
export const terminalWorkflowStatuses: readonly WorkflowStatus[] = ['completed', 'failed', 'cancelled'];

export const subtaskStatusSchema = z.enum(['pending', 'ready', 'in_progress', 'blocked', 'completed', 'failed', 'cancelled']);
export type SubtaskStatus = z.infer<typeof subtaskStatusSchema>;
export const terminalSubtaskStatuses: readonly SubtaskStatus[] = ['completed', 'failed', 'cancelled'];

export const messageTypesByCategory = {
  task_coordination: ['TASK_STARTED', 'TASK_COMPLETED', 'TASK_BLOCKED', 'TASK_FAILED', 'HANDOFF_REQUEST'],
  information_sharing: ['SHARE_CONTEXT', 'SHARE_FINDINGS', 'SHARE_RESOURCES'],
  help_assistance: ['REQUEST_HELP', 'OFFER_HELP', 'ACCEPT_HELP', 'HELP_RESPONSE'],
  quality_assurance: ['QUALITY_CHECK_REQUEST', 'QUALITY_FEEDBACK', 'APPROVAL_REQUEST', 'APPROVAL_RESPONSE'],
  management: ['STATUS_UPDATE', 'ESCALATION', 'COORDINATION_SYNC', 'LOAD_BALANCE_REQUEST'],
  system: ['HEARTBEAT', 'SHUTDOWN_NOTICE', 'RECOVERY_NOTICE'],
  error_handling: ['ERROR_REPORT', 'ERROR_RECOVERY'],
  acknowledgment: ['ACKNOWLEDGMENT', 'MESSAGE_RECEIVED', 'MESSAGE_PROCESSED'],
} as const;
export const messageTypeSchema = z.enum([
  ...messageTypesByCategory.task_coordination,
  ...messageTypesByCategory.information_sharing,
  ...messageTypesByCategory.help_assistance,
  ...messageTypesByCategory.quality_assurance,
  ...messageTypesByCategory.management,
  ...messageTypesByCategory.system,
  ...messageTypesByCategory.error_handling,
  ...messageTypesByCategory.acknowledgment,
]);
export type MessageType = z.infer<typeof messageTypeSchema>;

/** Message and task priority; higher is delivered first. */
export const prioritySchema = z.enum(['LOW', 'NORMAL', 'HIGH', 'URGENT', 'CRITICAL']);
export type Priority = z.infer<typeof prioritySchema>;
export const priorityRank: Record<Priority, number> = { LOW: 1, NORMAL: 2, HIGH: 3, URGENT: 4, CRITICAL: 5 };
export const priorityResponseTimeoutSeconds: Record<Priority, number> = {
  LOW: 600,
  NORMAL: 300,
  HIGH: 180,
  URGENT: 60,
  CRITICAL: 30,
};

export const riskLevelSchema = z.enum(['low', 'medium', 'high', 'critical']);
export type RiskLevel = z.infer<typeof riskLevelSchema>;

export const qualityGateNameSchema = z.enum(['research_completeness', 'analysis_accuracy', 'output_quality', 'compliance_review']);
export type QualityGateName = z.infer<typeof qualityGateNameSchema>;
export const qualityGateThreshold: Record<QualityGateName, number> = {
  research_completeness: 0.9,
  analysis_accuracy: 0.85,
  output_quality: 0.92,
  compliance_review: 0.95,
};

export const phaseSchema = z.enum(['research', 'analysis', 'production', 'qa', 'delivery']);
export type Phase = z.infer<typeof phaseSchema>;
