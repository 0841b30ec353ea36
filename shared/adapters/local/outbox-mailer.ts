import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mailer, OutgoingMail } from '../../domain/ports.js';
import { type RenderedMessage, renderMessage } from '../../domain/substitutions.js';

/**
 * A message as the outbox stores it: the {@link OutgoingMail} unchanged, plus what each
 * personalization's message says once its substitutions are applied (`rendered[i]` for
 * `payload.personalizations[i]`), rendered exactly as the SES adapter renders it.
 */
export interface StoredMail extends OutgoingMail {
  /** Absent from messages stored before the outbox rendered them. */
  rendered?: RenderedMessage[];
}

/**
 * The local runtime's and the tests' {@link Mailer}: each accepted message becomes one JSON file
 * in a directory, `<acceptedAt with ':' replaced by '-'>-<messageId>.json`, so names sort by
 * acceptance time and are valid on every file system. Files are written to a temporary name and
 * renamed, so a reader never sees a partial message. It accepts every sender and template (there
 * is nothing to verify against locally) and never delivers anything.
 *
 * It stores the {@link OutgoingMail} as is (the sending key's ID, never the key), with each
 * personalization's rendered subject and content beside it ({@link StoredMail}).
 */
export class OutboxMailer implements Mailer {
  constructor(readonly dir: string) {}

  /** Writes the message atomically, creating the directory if needed. */
  async send(mail: OutgoingMail): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const name = `${mail.acceptedAt.replaceAll(':', '-')}-${mail.messageId}.json`;
    const temp = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    const stored: StoredMail = {
      ...mail,
      rendered: mail.payload.personalizations.map((p) => renderMessage(mail.payload, p)),
    };
    await writeFile(temp, `${JSON.stringify(stored, null, 2)}\n`, { flag: 'wx' });
    await rename(temp, join(this.dir, name));
  }

  canSendFrom(_address: string): boolean {
    return true;
  }

  canUseTemplate(_templateId: string): boolean {
    return true;
  }

  /** The messages in the outbox, oldest first (empty when the directory does not exist). */
  async list(): Promise<StoredMail[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    return Promise.all(
      files.map(async (n) => JSON.parse(await readFile(join(this.dir, n), 'utf8')) as StoredMail),
    );
  }
}
