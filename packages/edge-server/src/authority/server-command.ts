import type { EventMetadata, StreamRef } from '@strata/core';

/** A command to decide on the server: from a device's push, a thin client or server code. */
export interface ServerCommand extends StreamRef {
  /** The command's id: deciding the same id again answers with what it stored the first time. */
  readonly commandId: string;
  readonly name: string;
  /** Unparsed: the command's schema parses it. */
  readonly input: unknown;
  /** App metadata keys to keep (correlation ids); identity keys are stamped over them. */
  readonly metadata?: EventMetadata;
}
