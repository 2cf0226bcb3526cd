/**
 * The `conf.yaml.default` files of the built-in checks, carried as text inside the binary.
 * Each has a null `init_config` and one empty instance, so their IDs match the Datadog Agent's
 * (`cpu:e331d61ed1323219`, …).
 */
import type { DefaultConfig } from "../_types.ts";

function defaultText(name: string, comment: string): string {
  return `# The ${name} check, enabled by default. ${comment}
# Put a conf.yaml in this check's conf.d folder to change it.
init_config:

instances:
  - {}
`;
}

/** The default configs of the built-in system checks. */
export const SYSTEM_DEFAULTS: readonly DefaultConfig[] = Object.freeze([
  { name: "cpu", text: defaultText("cpu", "Set report_total_percpu: true for per-core totals.") },
  { name: "load", text: defaultText("load", "Reads /proc/loadavg.") },
  { name: "memory", text: defaultText("memory", "Reads /proc/meminfo and /proc/vmstat.") },
  { name: "uptime", text: defaultText("uptime", "Reads /proc/uptime.") },
  { name: "io", text: defaultText("io", "Options: device_exclude_re, lowercase_device_tag.") },
  {
    name: "disk",
    text: defaultText(
      "disk",
      "Options: file_system_exclude, mount_point_exclude, device_exclude, tag_by_filesystem.",
    ),
  },
  {
    name: "network",
    text: defaultText(
      "network",
      "Options: excluded_interfaces, excluded_interface_re, collect_connection_state.",
    ),
  },
  { name: "file_handle", text: defaultText("file_handle", "Reads /proc/sys/fs/file-nr.") },
  {
    name: "ntp",
    text: defaultText(
      "ntp",
      "Options: hosts, port, version, timeout, offset_threshold, use_local_defined_servers.",
    ),
  },
]);
