/**
 * Talking to AWS from the Lambda mode: SigV4 and the KMS and Secrets Manager calls.
 *
 * @module
 */
export { amzDate, type AwsCredentials, type SignInput, signRequest } from "./sigv4.ts";
export {
  arnRegion,
  type AwsEnv,
  awsJsonCall,
  credentialsFromEnv,
  endpointFor,
  getSecretValue,
  kmsDecrypt,
} from "./client.ts";
