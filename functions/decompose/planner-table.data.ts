import type { Complexity, Specialty } from '../../shared/domain/vocabulary.js';

/**
 * Requests a user might send, with what a person planning them would expect: the acceptable
 * complexities, the specialists that must be in the plan, and (where it is clear) whether the plan
 * must wait for approval. Written from the request, not from the planner's output.
 */
export interface PlannerCase {
  request: string;
  complexity: readonly Complexity[];
  required: readonly Specialty[];
  approval?: boolean;
}

export const plannerCases: readonly PlannerCase[] = [
  // issue 14's examples
  {
    request: 'Build enterprise CRM integration with compliance review',
    complexity: ['ENTERPRISE'],
    required: ['system_architect', 'code_reviewer_optimizer', 'security_analyst', 'compliance_reviewer'],
    approval: true,
  },
  {
    request: 'Investigate security incident in production database',
    complexity: ['INVESTIGATION'],
    required: ['digital_forensics_expert', 'security_analyst', 'case_investigation_manager', 'compliance_reviewer'],
    approval: true,
  },
  {
    request: 'Research AI market trends and create presentation',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['news_trends_analyzer', 'presentation_formatter'],
  },
  // research and writing
  { request: 'Survey 2026 AI market size estimates', complexity: ['SIMPLE', 'MODERATE'], required: ['news_trends_analyzer'] },
  { request: 'Write a blog post about remote work', complexity: ['SIMPLE', 'MODERATE'], required: ['content_writer_editor'] },
  { request: 'Quick summary of this article', complexity: ['SIMPLE'], required: ['content_writer_editor'], approval: false },
  {
    request: 'Research competitor pricing and create a report',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['competitive_intelligence', 'content_writer_editor'],
  },
  {
    request: 'Write an academic literature review on CRISPR gene therapy',
    complexity: ['MODERATE'],
    required: ['academic_researcher', 'content_writer_editor'],
  },
  { request: 'Track news coverage of our company over the last month', complexity: ['SIMPLE', 'MODERATE'], required: ['news_trends_analyzer'] },
  { request: 'Monitor social media sentiment about our brand on Twitter and Reddit', complexity: ['SIMPLE', 'MODERATE'], required: ['social_media_monitor'] },
  {
    request: 'Monitor social media sentiment and write a report with infographics',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['social_media_monitor', 'content_writer_editor', 'infographic_creator'],
  },
  {
    request: 'Produce a short explainer video and a newsletter about our product launch',
    complexity: ['MODERATE'],
    required: ['media_video_producer', 'content_writer_editor'],
  },
  { request: 'Create a detailed infographic explaining how vaccines work', complexity: ['MODERATE', 'COMPLEX'], required: ['infographic_creator'] },
  { request: 'Give me one quick fact about the Eiffel Tower', complexity: ['SIMPLE'], required: [], approval: false },
  { request: 'Hello', complexity: ['SIMPLE'], required: [], approval: false },
  // analysis and strategy
  {
    request: 'Analyze sales data and forecast revenue for next quarter',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['data_analyst', 'statistical_modeler', 'financial_performance_analyst'],
  },
  { request: 'Compare the top five project management tools and recommend one', complexity: ['MODERATE'], required: ['data_analyst'] },
  {
    request: 'Create a pitch deck for our seed round with financial projections',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['presentation_formatter', 'financial_performance_analyst'],
  },
  {
    request: 'Assess the financial risk of expanding into the European market',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['risk_assessment_specialist', 'financial_performance_analyst', 'news_trends_analyzer'],
  },
  {
    request: 'Analyze customer reviews for recurring complaints and sentiment patterns',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['pattern_recognition_expert'],
  },
  {
    request: 'Comprehensive detailed comparison of multiple cloud providers with charts',
    complexity: ['COMPLEX'],
    required: ['graphics_diagram_designer', 'fact_checker_validator', 'output_quality_controller'],
  },
  {
    request: 'Comprehensive enterprise competitive analysis with detailed market research and an executive presentation',
    complexity: ['COMPLEX', 'ENTERPRISE'],
    required: ['competitive_intelligence', 'news_trends_analyzer', 'presentation_formatter', 'fact_checker_validator'],
  },
  {
    request: 'Develop a comprehensive go-to-market strategy with competitor benchmarking, pricing analysis and a launch presentation',
    complexity: ['COMPLEX', 'ENTERPRISE'],
    required: ['competitive_intelligence', 'financial_performance_analyst', 'presentation_formatter'],
  },
  {
    request: 'Detailed due diligence on a SaaS acquisition target: financials, risks and competitors',
    complexity: ['COMPLEX'],
    required: ['financial_performance_analyst', 'risk_assessment_specialist', 'competitive_intelligence'],
  },
  {
    request: 'Develop an enterprise-wide strategic plan for executive leadership',
    complexity: ['ENTERPRISE'],
    required: ['compliance_reviewer', 'final_delivery_approver'],
    approval: true,
  },
  {
    request: 'Prepare an executive briefing on geopolitical risks to our supply chain',
    complexity: ['ENTERPRISE'],
    required: ['risk_assessment_specialist', 'content_writer_editor', 'compliance_reviewer'],
  },
  {
    request: 'Create an executive dashboard of customer churn KPIs',
    complexity: ['MODERATE', 'ENTERPRISE'],
    required: ['data_analyst', 'graphics_diagram_designer'],
  },
  {
    request: 'Create a complete professional infographic and video on financial risk for the board',
    complexity: ['COMPLEX', 'ENTERPRISE'],
    required: ['infographic_creator', 'media_video_producer', 'financial_performance_analyst', 'risk_assessment_specialist'],
  },
  // technical and engineering
  {
    request: 'Perform a security audit of our web application',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['security_analyst', 'code_reviewer_optimizer'],
  },
  { request: 'Perform a security audit of the system architecture', complexity: ['MODERATE', 'COMPLEX'], required: ['security_analyst', 'system_architect'] },
  {
    request: 'Review our codebase for performance bottlenecks and latency issues',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['code_reviewer_optimizer', 'performance_engineer'],
  },
  {
    request: 'Review the system architecture, code quality and performance of our platform',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['system_architect', 'code_reviewer_optimizer', 'performance_engineer'],
  },
  { request: 'Set up a Kubernetes deployment pipeline with Docker and Terraform', complexity: ['MODERATE'], required: ['devops_specialist'] },
  { request: 'Migrate our monolith to microservices on Kubernetes', complexity: ['MODERATE', 'COMPLEX'], required: ['system_architect', 'devops_specialist'] },
  { request: 'Build a REST API for customer orders with tests', complexity: ['MODERATE'], required: ['code_reviewer_optimizer'] },
  { request: 'Design a scalable event-driven architecture for order processing', complexity: ['MODERATE', 'COMPLEX'], required: ['system_architect'] },
  { request: 'Write technical documentation for our payment API', complexity: ['MODERATE'], required: ['content_writer_editor', 'code_reviewer_optimizer'] },
  {
    request: 'Integrate Salesforce with our ERP and set up SSO',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['system_architect', 'code_reviewer_optimizer', 'security_analyst'],
  },
  {
    request: 'Conduct a penetration test of the customer portal and write a report',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['security_analyst', 'content_writer_editor'],
  },
  { request: 'Load test the checkout service and optimize database queries', complexity: ['MODERATE', 'COMPLEX'], required: ['performance_engineer'] },
  {
    request: 'Harden our AWS infrastructure and set up CI/CD with Terraform',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['security_analyst', 'system_architect', 'devops_specialist'],
  },
  {
    request: 'Investigate why our API latency doubled after the last deploy',
    complexity: ['MODERATE', 'COMPLEX'],
    required: ['performance_engineer', 'code_reviewer_optimizer'],
  },
  {
    request: 'Write a whitepaper on zero trust security for enterprise customers',
    complexity: ['MODERATE', 'ENTERPRISE'],
    required: ['content_writer_editor', 'security_analyst'],
  },
  // investigations
  {
    request: 'Investigate the ransomware intrusion and preserve forensic evidence for the case',
    complexity: ['INVESTIGATION'],
    required: ['digital_forensics_expert', 'evidence_compilation_expert', 'compliance_reviewer'],
    approval: true,
  },
  {
    request: 'Reverse engineer the malware binary and analyze network traffic packets',
    complexity: ['COMPLEX', 'INVESTIGATION'],
    required: ['reverse_engineering_specialist', 'network_security_analyzer'],
  },
  {
    request: 'Investigate a phishing campaign targeting our finance team and compile evidence',
    complexity: ['INVESTIGATION'],
    required: ['digital_forensics_expert', 'evidence_compilation_expert'],
    approval: true,
  },
  {
    request: 'Analyze firewall logs for signs of data exfiltration',
    complexity: ['MODERATE', 'COMPLEX', 'INVESTIGATION'],
    required: ['network_security_analyzer'],
  },
  {
    request: 'Forensic analysis of a compromised laptop for a legal case',
    complexity: ['INVESTIGATION'],
    required: ['digital_forensics_expert', 'compliance_reviewer'],
    approval: true,
  },
  {
    request: 'Investigate insider fraud in expense reports',
    complexity: ['INVESTIGATION'],
    required: ['digital_forensics_expert', 'case_investigation_manager'],
    approval: true,
  },
  // review only
  {
    request: 'Proofread and fact check the quarterly investor letter',
    complexity: ['SIMPLE', 'MODERATE'],
    required: ['fact_checker_validator', 'error_detection_specialist'],
  },
  { request: 'Verify the accuracy of the statistics in our annual report', complexity: ['SIMPLE', 'MODERATE'], required: ['fact_checker_validator'] },
  { request: 'Review our GDPR compliance for customer data processing', complexity: ['MODERATE', 'COMPLEX'], required: ['compliance_reviewer'] },
];
