import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * An SQS client for AWS (default credential chain and region) or, given an endpoint, for a local
 * SQS such as ElasticMQ, which accepts any credentials.
 */
export function createSqsClient(endpoint?: string): SQSClient {
  if (!endpoint) return new SQSClient({});
  return new SQSClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}
