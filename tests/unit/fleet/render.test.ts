import { test } from "node:test";
import assert from "node:assert/strict";
import { renderStatus } from "../../../cli/installer.ts";

test("renderStatus() shows the refusals by code, and nothing for a daemon without them", () => {
  const base = {
    version: "1.0.0",
    apm_injection_status: {
      host_instrumented: false,
      docker_installed: false,
      docker_instrumented: false,
    },
    remote_config_state: [],
    catalog_version: "c1",
    platform: "linux/amd64",
    available_disk_space: 2 * 1024 ** 3,
    packages: {},
  };
  assert.equal(
    renderStatus({ ...base, refused: { too_large: 2, forbidden: 1 } }),
    [
      "Fleet installer — catalog c1, linux/amd64, 2.0 GiB free",
      "Refused since start: too_large 2, forbidden 1",
      "",
      "No packages installed.",
    ].join("\n"),
  );
  assert.doesNotMatch(renderStatus({ ...base, refused: {} }), /Refused/);
});
