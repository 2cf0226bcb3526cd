/**
 * Keys of the embedded local intake that `outpost run --dev` starts (outpost's own; the
 * Datadog Agent has no such component). `DD_LOCAL_INTAKE_PORT` and friends set them.
 */
import * as v from "valibot";
import { host, list, MiB, path, port, size } from "../_kinds.ts";

export const intakeKeys = {
  local_intake: v.optional(
    v.object({
      /** Address the dev intake listens on. */
      host: host("127.0.0.1"),
      /** 0 picks a free port. */
      port: port(0),
      /** Where payloads are stored; empty means `<run_path>/intake`. */
      data_dir: path(""),
      /** Byte cap of the stored payloads; the oldest files go first. */
      max_bytes: size(64 * MiB),
      /** API keys the intake accepts; empty accepts any (a request without a key gets 403). */
      api_keys: list(),
    }),
    {},
  ),
};
