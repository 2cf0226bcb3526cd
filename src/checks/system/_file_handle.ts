/** The `file_handle` check: `/proc/sys/fs/file-nr`. */
import { SystemCheck } from "./_base.ts";
import { fields } from "./_proc.ts";

/** The `file_handle` check. */
export class FileHandleCheck extends SystemCheck {
  protected collect(): void {
    const [allocated, unused, max] = fields(this.proc.read("sys/fs/file-nr")).map(Number);
    if (![allocated, unused, max].every((v) => v !== undefined && Number.isFinite(v))) {
      throw new Error("Cannot parse /proc/sys/fs/file-nr: expected three numbers");
    }
    const used = allocated! - unused!;
    const s = this.sender;
    s.metric("gauge", "system.fs.file_handles.allocated", allocated!);
    s.metric("gauge", "system.fs.file_handles.allocated_unused", unused!);
    s.metric("gauge", "system.fs.file_handles.used", used);
    s.metric("gauge", "system.fs.file_handles.max", max!);
    if (max! > 0) s.metric("gauge", "system.fs.file_handles.in_use", used / max!);
  }
}
