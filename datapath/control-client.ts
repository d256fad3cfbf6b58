// The client side of the control socket (control.ts): one request, or a dump walked a
// page at a time on one connection, each page handed on before the next is asked for.

import { createConnection, type Socket } from 'node:net';
import { UserError } from '../core/errors.js';
import type { ControlReply, ControlRequest } from './control-protocol.js';

/** A connection that sends a request and waits for its one-line reply. */
class Connection {
  private buffer = '';
  private waiting?: { resolve: (reply: ControlReply) => void; reject: (e: Error) => void };
  private failure?: Error;
  private readonly socket: Socket;

  constructor(private readonly path: string) {
    this.socket = createConnection(path);
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => this.receive(chunk));
    this.socket.once('error', (e: NodeJS.ErrnoException) =>
      this.fail(new UserError(`cannot reach the instance at ${path} (${e.code ?? e.message})`)),
    );
    this.socket.once('close', () => this.fail(new UserError(`${path}: the instance closed the connection`)));
  }

  request(request: ControlRequest): Promise<ControlReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(`${JSON.stringify(request)}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    const newline = this.buffer.indexOf('\n');
    if (newline < 0) return;
    const line = this.buffer.slice(0, newline);
    this.buffer = this.buffer.slice(newline + 1);
    const waiting = this.waiting;
    this.waiting = undefined;
    try {
      waiting?.resolve(JSON.parse(line) as ControlReply);
    } catch {
      waiting?.reject(new UserError(`${this.path}: the instance sent a reply that is not JSON`));
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.waiting?.reject(this.failure);
    this.waiting = undefined;
  }
}

function linesOf(path: string, reply: ControlReply): { lines: string[]; next?: string } {
  if ('error' in reply) throw new UserError(`${path}: ${reply.error}`);
  return reply;
}

/** One request to a running instance; its error comes back as a UserError. */
export async function queryInstance(path: string, request: ControlRequest): Promise<string[]> {
  const connection = new Connection(path);
  try {
    return linesOf(path, await connection.request(request)).lines;
  } finally {
    connection.close();
  }
}

/**
 * Every entry of `map` of a running instance, handed to `onPage` a page at a time; the
 * next page is asked for once `onPage` has settled (e.g. once stdout has drained).
 */
export async function dumpInstance(
  path: string,
  map: string,
  onPage: (lines: string[]) => void | Promise<void>,
  limit?: number,
): Promise<void> {
  const connection = new Connection(path);
  try {
    let cursor: string | undefined;
    do {
      const page = linesOf(
        path,
        await connection.request({ op: 'dump', map, ...(cursor === undefined ? {} : { cursor }), ...(limit ? { limit } : {}) }),
      );
      await onPage(page.lines);
      cursor = page.next;
    } while (cursor !== undefined);
  } finally {
    connection.close();
  }
}
