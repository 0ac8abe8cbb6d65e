import type { EventMetadata, StreamRef } from '@strata/core';

/** A command to decide on the server: from a device's push, a thin client or server code. */
export interface ServerCommand extends StreamRef {
  /** The command's id: deciding the same id again answers with what it stored the first time. */
  readonly commandId: string;
  readonly name: string;
  /** Unparsed: the command's schema parses it. */
  readonly input: unknown;
  /**
   * The version of the command's input schema `input` is in (`defineCommandInput`, issue 17):
   * older input is upgraded before anything else sees it. Undefined: the current version (server
   * code); commands from the wire always name theirs (absent there means 1).
   */
  readonly inputVersion?: number;
  /** App metadata keys to keep (correlation ids); identity keys are stamped over them. */
  readonly metadata?: EventMetadata;
}
