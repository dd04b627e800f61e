import { describe, expect, it } from 'vitest';
import { workMode } from './patterns.js';
import { subjectOf, titleOf } from './titles.js';

describe('subjectOf', () => {
  it.each([
    ['Research AI market trends and create presentation', 'AI market trends'],
    ['Build enterprise CRM integration with compliance review', 'enterprise CRM integration'],
    ['Investigate security incident in production database', 'security incident in production database'],
    ['Please can you write a blog post about remote work?', 'blog post about remote work'],
    ['Investigate why our API latency doubled after the last deploy', 'API latency doubled after the last deploy'],
    ['Compare the top five project management tools and recommend one', 'top five project management tools'],
    ['Detailed due diligence on a SaaS acquisition target: financials, risks', 'due diligence on a SaaS acquisition target'],
    ['Tell me about penguins', 'penguins'],
    ['', 'the request'],
    ['   ...   ', 'the request'],
  ])('%j → %j', (description, subject) => {
    expect(subjectOf(description)).toBe(subject);
  });

  it('stays short for a long request and never ends on a dangling word', () => {
    const subject = subjectOf(`Research ${'very '.repeat(2_000)}long things`);
    expect(subject.length).toBeLessThanOrEqual(60);
    expect(subjectOf('Research the impact of the new tariffs on the price of imported steel in Europe')).toBe('impact of the new tariffs on the price');
  });
});

describe('titleOf and workMode', () => {
  it('words technical work by whether the request builds or assesses', () => {
    expect(workMode('Build a REST API')).toBe('build');
    expect(workMode('Set up a Kubernetes cluster')).toBe('build');
    expect(workMode('Review why the API slowed after the deploy')).toBe('assess');
    expect(workMode('Tell me about penguins')).toBe('assess');
    expect(titleOf('system_architect', 'system_analysis', 'build', 'order service')).toBe('Design the architecture and interfaces: order service');
    expect(titleOf('system_architect', 'system_analysis', 'assess', 'order service')).toBe('Review the system architecture: order service');
    expect(titleOf('web_intelligence_gatherer', 'market_research', 'assess', '2026 AI market')).toBe(
      'Survey market size estimates and sources: 2026 AI market',
    );
  });
});
