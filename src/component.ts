/**
 * The shape every long-running part of the agent takes, so the composition root can start
 * them in order and stop them in reverse.
 *
 * @module
 */

/** A part of the agent with a lifecycle. */
export interface Component {
  /** Stable name, shown in health and logs. */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** False when the component cannot do its job. @default always healthy once started */
  healthy?(): boolean;
}
