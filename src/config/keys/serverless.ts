/** Keys of the Lambda extension mode (`outpost lambda`). */
import { port } from "../_kinds.ts";

export const serverlessKeys = {
  /** The daemon the Datadog Lambda libraries call (`/lambda/hello`, `/lambda/flush`). */
  serverless_daemon_port: port(8124),
};
