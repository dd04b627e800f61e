import type { Specialty } from '../../shared/domain/vocabulary.js';

/*
 * Titles that say what the work is: an imperative per specialist (worded by the pattern that brought
 * it in, and by whether a system is being built or assessed) followed by the request's subject, taken
 * from its first clause ("Research AI market trends and create presentation" → "AI market trends").
 */

const verbs = [
  ...['research', 'create', 'build', 'investigate', 'analyze', 'analyse', 'write', 'design', 'compare', 'review', 'perform', 'prepare'],
  ...['produce', 'make', 'develop', 'set', 'conduct', 'run', 'do', 'draft', 'monitor', 'track', 'assess', 'evaluate', 'audit', 'give'],
  ...['summarize', 'summarise', 'plan', 'find', 'gather', 'collect', 'explore', 'study', 'examine', 'identify', 'implement', 'deploy'],
  ...['migrate', 'integrate', 'optimize', 'optimise', 'improve', 'forecast', 'reverse', 'tell', 'profile', 'verify', 'compile', 'preserve'],
  ...[
    'harden',
    'secure',
    'setup',
    'automate',
    'configure',
    'install',
    'provision',
    'debug',
    'diagnose',
    'inspect',
    'proofread',
    'check',
    'load',
    'test',
    'survey',
  ],
  ...['recommend', 'suggest', 'explain', 'present', 'deliver', 'publish', 'share', 'send', 'propose', 'translate'],
];
const fillers = [
  ...['please', 'kindly', 'can', 'could', 'would', 'you', 'i', 'we', 'need', 'needs', 'want', 'wants', 'to', 'help', 'me', 'us', 'lets', 'let'],
  ...['a', 'an', 'the', 'our', 'my', 'your', 'their', 'some', 'up', 'engineer', 'about', 'on', 'of', 'why', 'how', 'fact', 'and'],
  ...['quick', 'quickly', 'simple', 'basic', 'brief', 'short', 'comprehensive', 'detailed', 'complete', 'professional', 'thorough', 'full'],
];
const leading = new Set([...verbs, ...fillers]);
const clauseVerbs = new Set(verbs);
const MAX_WORDS = 8;
/** Words a truncated subject must not end on. */
const trailing = new Set(['a', 'an', 'the', 'of', 'for', 'to', 'and', 'or', 'in', 'on', 'at', 'by', 'with', 'after', 'before', 'our', 'my', 'from', 'into']);
const MAX_CHARS = 60;

const bare = (word: string): string => word.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The request's subject: its first clause, without polite openings, leading verbs and determiners. Pure. */
export function subjectOf(description: string): string {
  const sentence =
    description
      .replace(/\s+/g, ' ')
      .trim()
      .split(/[.!?;:\n]/)
      .find((part) => part.trim().length > 0) ?? '';
  const words = sentence
    .trim()
    .split(' ')
    .filter((word) => bare(word).length > 0);
  let start = 0;
  while (start < words.length - 1 && leading.has(bare(words[start] as string))) start += 1;
  const kept: string[] = [];
  for (const word of words.slice(start)) {
    const lower = bare(word);
    const next = words[start + kept.length + 1];
    if (kept.length > 0 && (lower === 'with' || lower === 'then' || (lower === 'and' && next !== undefined && clauseVerbs.has(bare(next))))) break;
    kept.push(word.replace(/[,)]+$/, ''));
    if (word.endsWith(',') || kept.length >= MAX_WORDS) break;
  }
  while (kept.length > 1 && trailing.has(bare(kept.at(-1) as string))) kept.pop();
  let subject = kept.join(' ').replace(/^[("'“]+|[)"'”]+$/g, '');
  if (subject.length > MAX_CHARS) subject = subject.slice(0, subject.lastIndexOf(' ', MAX_CHARS) > 0 ? subject.lastIndexOf(' ', MAX_CHARS) : MAX_CHARS);
  return subject.length > 0 ? subject : 'the request';
}

/** The work of each specialist, as an imperative; `build` words technical work that changes a system. */
const work: Record<Specialty, string | { assess: string; build: string }> = {
  academic_researcher: 'Review the academic literature',
  web_intelligence_gatherer: 'Gather web sources and figures',
  news_trends_analyzer: 'Track recent news and trends',
  competitive_intelligence: 'Profile the competitors and their offers',
  social_media_monitor: 'Monitor social media conversation and sentiment',
  data_analyst: 'Analyse the data and key figures',
  statistical_modeler: 'Build the statistical model and forecast',
  pattern_recognition_expert: 'Find patterns and anomalies',
  risk_assessment_specialist: 'Assess and rank the risks',
  financial_performance_analyst: 'Analyse the financial performance',
  graphics_diagram_designer: 'Design the charts and diagrams',
  content_writer_editor: 'Write and edit the text',
  presentation_formatter: 'Build the slide deck',
  media_video_producer: 'Produce the video',
  infographic_creator: 'Create the infographic',
  code_reviewer_optimizer: { assess: 'Review the code and propose optimisations', build: 'Implement and review the code' },
  system_architect: { assess: 'Review the system architecture', build: 'Design the architecture and interfaces' },
  security_analyst: { assess: 'Assess security weaknesses and exposure', build: 'Review the security of the design and data flows' },
  performance_engineer: { assess: 'Profile performance and find bottlenecks', build: 'Load-test and tune performance' },
  devops_specialist: { assess: 'Review deployment and operations', build: 'Automate the build, deployment and monitoring' },
  digital_forensics_expert: 'Acquire and examine the forensic evidence',
  network_security_analyzer: 'Analyse network traffic and logs',
  reverse_engineering_specialist: 'Reverse-engineer the suspicious binaries',
  case_investigation_manager: 'Reconstruct the timeline and findings',
  evidence_compilation_expert: 'Compile the evidence report',
  fact_checker_validator: 'Fact-check the claims and figures',
  output_quality_controller: 'Check the deliverables against the brief',
  compliance_reviewer: 'Review regulatory and policy compliance',
  error_detection_specialist: 'Proofread and correct errors',
  final_delivery_approver: 'Approve and deliver the final output',
};

/** Where the pattern that brought a specialist in says more precisely what it does. */
const byOrigin: Readonly<Record<string, string>> = {
  'market_research:web_intelligence_gatherer': 'Survey market size estimates and sources',
  'market_research:news_trends_analyzer': 'Track recent market trends and news',
  'market_research:data_analyst': 'Analyse market size and growth figures',
  'competitive_analysis:data_analyst': 'Compare competitors on price, share and features',
  'social_intelligence:pattern_recognition_expert': 'Find themes and shifts in the social conversation',
  'news_monitoring:news_trends_analyzer': 'Monitor news coverage',
  'content_creation:content_writer_editor': 'Write and edit the copy',
  'report_writing:content_writer_editor': 'Write and edit the report',
  'presentation_creation:graphics_diagram_designer': 'Design the charts for the slides',
  'integration_engineering:system_architect': 'Design the integration architecture and data mapping',
  'integration_engineering:code_reviewer_optimizer': 'Implement and review the integration code',
  'integration_engineering:security_analyst': 'Review security of the integration and its data flows',
  'integration_engineering:devops_specialist': 'Automate deployment and monitoring of the integration',
  'security_audit:security_analyst': 'Assess security weaknesses and exposure',
  'supporting:web_intelligence_gatherer': 'Gather reference material and prior work',
  'digital_investigation:case_investigation_manager': 'Reconstruct the incident timeline and findings',
};

export function titleOf(specialty: Specialty, origin: string, mode: 'build' | 'assess', subject: string): string {
  const entry = work[specialty];
  const action = byOrigin[`${origin}:${specialty}`] ?? (typeof entry === 'string' ? entry : entry[mode]);
  return `${action}: ${subject}`;
}
