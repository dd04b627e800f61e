import type { Specialty, SpecialtyGroup } from '../../shared/domain/vocabulary.js';

/**
 * Request patterns: which kinds of work a description asks for, and the specialists each needs.
 *
 * A trigger is a space-separated list of words that must ALL occur somewhere in the request
 * (word boundaries, case-insensitive); a trailing `*` makes a word a prefix (`investigat*`).
 * A pattern matches when any one of its triggers does. A `fallback` pattern only counts when no
 * other pattern of the same group matched (so "research" alone still finds a researcher, but
 * "market research" is not counted twice), nor any pattern of the groups in `yieldsTo` ("create a
 * pipeline" or "write code" is technical work, not a writing job; "analyse the network traffic" is the
 * network analyst's). "Investigate" alone is not a digital
 * investigation (a latency regression or a market can be investigated): it needs an incident word beside it.
 */
export interface RequestPattern {
  readonly name: string;
  readonly label: string;
  readonly triggers: readonly string[];
  /** In order of preference; the first is the pattern's primary specialist. */
  readonly specialists: readonly Specialty[];
  readonly fallback?: boolean;
  readonly yieldsTo?: readonly SpecialtyGroup[];
}

export const requestPatterns: readonly RequestPattern[] = [
  // research
  {
    name: 'market_research',
    label: 'market research',
    triggers: ['market*', 'trend*', 'industry', 'industries', 'consumer*'],
    specialists: ['news_trends_analyzer', 'web_intelligence_gatherer', 'data_analyst'],
  },
  {
    name: 'competitive_analysis',
    label: 'competitive analysis',
    triggers: ['competitor*', 'competitive', 'competition', 'rival*'],
    specialists: ['competitive_intelligence', 'data_analyst'],
  },
  {
    name: 'academic_research',
    label: 'academic research',
    triggers: ['academic', 'literature', 'scholarly', 'scientific', 'papers', 'peer reviewed', 'journal*', 'clinical'],
    specialists: ['academic_researcher'],
  },
  { name: 'news_monitoring', label: 'news monitoring', triggers: ['news', 'headlines', 'press coverage'], specialists: ['news_trends_analyzer'] },
  {
    name: 'social_intelligence',
    label: 'social intelligence',
    triggers: ['social', 'sentiment', 'twitter', 'reddit', 'instagram', 'tiktok', 'influencer*', 'hashtag*'],
    specialists: ['social_media_monitor', 'pattern_recognition_expert'],
  },
  {
    name: 'general_research',
    label: 'research',
    triggers: ['research*', 'gather', 'search*', 'sources', 'look up', 'survey*', 'explore'],
    specialists: ['web_intelligence_gatherer'],
    fallback: true,
  },
  // analysis
  {
    name: 'data_analysis',
    label: 'data analysis',
    triggers: ['data', 'dataset*', 'statistic*', 'kpi*', 'metrics', 'churn', 'cohort*', 'sales'],
    specialists: ['data_analyst'],
  },
  {
    name: 'statistical_modeling',
    label: 'statistical modeling',
    triggers: ['forecast*', 'regression', 'predict*', 'statistical model*', 'time series', 'projection*'],
    specialists: ['statistical_modeler', 'data_analyst'],
  },
  {
    name: 'financial_analysis',
    label: 'financial analysis',
    triggers: ['financial', 'financials', 'finance*', 'revenue*', 'profit*', 'earnings', 'pricing', 'valuation', 'budget*', 'roi', 'investment*', 'cash flow'],
    specialists: ['financial_performance_analyst'],
  },
  { name: 'risk_assessment', label: 'risk assessment', triggers: ['risk*'], specialists: ['risk_assessment_specialist'] },
  { name: 'pattern_analysis', label: 'pattern analysis', triggers: ['pattern*', 'anomal*', 'correlation*'], specialists: ['pattern_recognition_expert'] },
  {
    name: 'general_analysis',
    label: 'analysis',
    triggers: ['analy*', 'assess*', 'evaluat*', 'compar*'],
    specialists: ['data_analyst'],
    fallback: true,
    yieldsTo: ['technical', 'investigation'],
  },
  // technical (spec defect 2: never dropped)
  {
    name: 'system_analysis',
    label: 'system analysis',
    triggers: [
      'architecture*',
      'architect*',
      'infrastructure',
      'scalab*',
      'microservice*',
      'system design',
      'system analy*',
      'systems',
      'production database*',
      'production system*',
      'production server*',
      'database schema*',
      'legacy',
      'monolith*',
      'high availability',
      'disaster recovery',
      'migrat* cloud',
      'migrat* database*',
    ],
    specialists: ['system_architect'],
  },
  {
    name: 'integration_engineering',
    label: 'integration engineering',
    triggers: [
      'integration',
      'integrations',
      'integrate',
      'crm',
      'erp',
      'salesforce',
      'hubspot',
      'webhook*',
      'etl',
      'sso',
      'oauth',
      'connector*',
      'middleware',
    ],
    specialists: ['system_architect', 'code_reviewer_optimizer', 'security_analyst', 'devops_specialist'],
  },
  {
    name: 'code_review',
    label: 'code review',
    triggers: [
      'code',
      'codebase*',
      'refactor*',
      'pull request*',
      'software',
      'api',
      'apis',
      'graphql',
      'backend',
      'frontend',
      'web app*',
      'mobile app*',
      'website*',
      'sdk',
      'bug*',
      'unit test*',
    ],
    specialists: ['code_reviewer_optimizer'],
  },
  {
    name: 'performance_engineering',
    label: 'performance engineering',
    triggers: [
      'latency',
      'throughput',
      'bottleneck*',
      'profiling',
      'load test*',
      'caching',
      'performance system*',
      'performance app*',
      'performance code',
      'performance database*',
      'performance platform*',
      'performance api*',
      'performance engineer*',
      'optimi* code',
      'optimi* query*',
    ],
    specialists: ['performance_engineer'],
  },
  {
    name: 'devops',
    label: 'devops',
    triggers: ['devops', 'deploy*', 'kubernetes', 'docker', 'terraform', 'ci cd', 'cicd', 'pipeline* build', 'helm', 'ansible', 'observability', 'sre'],
    specialists: ['devops_specialist'],
  },
  {
    name: 'security_audit',
    label: 'security audit',
    triggers: [
      'security',
      'secure',
      'cybersecurity',
      'vulnerab*',
      'pentest*',
      'penetration',
      'owasp',
      'harden*',
      'threat model*',
      'exploit*',
      'encrypt*',
      'authentication',
      'zero trust',
    ],
    specialists: ['security_analyst'],
  },
  // investigation (spec defect 2: never dropped)
  {
    name: 'digital_investigation',
    label: 'digital investigation',
    triggers: [
      'forensic*',
      'evidence',
      'investigat* security',
      'investigat* case*',
      'investigat* suspicious',
      'investigat* attack*',
      'investigat* hack*',
      'investigat* leak*',
      'investigat* theft',
      'investigat* misconduct',
      'investigat* insider*',
      'investigat* crim*',
      'investigat* unauthori*',
      'breach*',
      'intrusion*',
      'incident*',
      'compromise*',
      'ransomware',
      'phishing',
      'fraud*',
    ],
    specialists: ['digital_forensics_expert', 'case_investigation_manager', 'evidence_compilation_expert'],
  },
  {
    name: 'network_analysis',
    label: 'network analysis',
    triggers: ['network security', 'network traffic', 'network intrusion*', 'network logs', 'packet*', 'firewall*', 'ddos', 'exfiltrat*', 'lateral movement'],
    specialists: ['network_security_analyzer'],
  },
  {
    name: 'reverse_engineering',
    label: 'reverse engineering',
    triggers: ['reverse engineer*', 'decompil*', 'disassembl*', 'binary', 'binaries', 'malware'],
    specialists: ['reverse_engineering_specialist'],
  },
  // creative
  {
    name: 'content_creation',
    label: 'content creation',
    triggers: ['content', 'blog*', 'article*', 'copy', 'copywrit*', 'newsletter*'],
    specialists: ['content_writer_editor'],
  },
  {
    name: 'report_writing',
    label: 'report writing',
    triggers: ['report*', 'whitepaper*', 'memo*', 'summar*', 'briefing*', 'writeup', 'write up', 'documentation'],
    specialists: ['content_writer_editor'],
  },
  {
    name: 'presentation_creation',
    label: 'presentation creation',
    triggers: ['presentation*', 'slide*', 'deck*', 'pitch*', 'keynote', 'powerpoint'],
    specialists: ['presentation_formatter', 'graphics_diagram_designer'],
  },
  {
    name: 'visual_design',
    label: 'visual design',
    triggers: ['diagram*', 'graphic*', 'chart*', 'visuali*', 'illustrat*', 'dashboard*'],
    specialists: ['graphics_diagram_designer'],
  },
  { name: 'infographic_creation', label: 'infographic creation', triggers: ['infographic*'], specialists: ['infographic_creator'] },
  {
    name: 'media_production',
    label: 'media production',
    triggers: ['video*', 'podcast*', 'animation*', 'film*', 'youtube', 'trailer*'],
    specialists: ['media_video_producer'],
  },
  {
    name: 'general_writing',
    label: 'writing',
    triggers: ['write', 'writing', 'draft*', 'create', 'compose'],
    specialists: ['content_writer_editor'],
    fallback: true,
    yieldsTo: ['technical'],
  },
  // qa
  {
    name: 'compliance_review',
    label: 'compliance review',
    triggers: ['complian*', 'regulat*', 'gdpr', 'hipaa', 'sox', 'legal', 'pci', 'privacy', 'policy', 'policies'],
    specialists: ['compliance_reviewer'],
  },
  {
    name: 'fact_checking',
    label: 'fact checking',
    triggers: ['fact check*', 'verify', 'verification', 'validate', 'accuracy'],
    specialists: ['fact_checker_validator'],
  },
  { name: 'proofreading', label: 'proofreading', triggers: ['proofread*', 'typo*', 'grammar'], specialists: ['error_detection_specialist'] },
];
