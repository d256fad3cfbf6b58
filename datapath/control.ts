// The control socket of a running instance: `bpf2wasm map dump|lookup|update|delete
// <socket> MAP ...` reaches the maps of a live `bpf2wasm run` through it. A Unix socket
// (root-only, 0600 from the moment it exists) speaking one JSON request and one JSON reply
// per line (control-protocol.ts); the main thread answers from the shared maps, so an
// update is what the workers see on their next packet. The main thread also prints the
// stats line, so no request may hold it long: a dump goes a bounded page per request, and
// the server reads no further request while a reply waits to drain.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { BpfMachine } from '../runtime/machine.js';
import { dumpPage, mapCommand } from '../runtime/map-commands.js';
import { MAX_REQUEST_CHARS, parseRequest, type ControlReply } from './control-protocol.js';

export { queryInstance, dumpInstance } from './control-client.js';
export type { ControlRequest } from './control-protocol.js';

/**
 * Where an instance serving `iface` listens unless told otherwise: /run/bpf2wasm/IFACE.sock
 * in the host's network namespace, /run/bpf2wasm/NETNS/IFACE.sock inside one `ip netns`
 * named, since interface names repeat across namespaces.
 */
export function defaultControlPath(iface: string): string {
  try {
    const mine = statSync('/proc/self/ns/net').ino;
    const named = readdirSync('/run/netns').find((n) => statSync(join('/run/netns', n)).ino === mine);
    if (named) return `/run/bpf2wasm/${named}/${iface}.sock`;
  } catch {
    // no named namespaces (or none readable): the host's path
  }
  return `/run/bpf2wasm/${iface}.sock`;
}

export function isControlSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/** Serves the machine's maps on `path`; refuses a path another live instance is serving. */
export async function startControlServer(machine: BpfMachine, path: string): Promise<{ close(): Promise<void> }> {
  if (isControlSocket(path)) {
    const alive = await new Promise<boolean>((resolve) => {
      const probe = createConnection(path, () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (alive) throw new UserError(`control socket ${path} is in use by another instance`);
    rmSync(path, { force: true }); // left behind by an instance that died
  } else if (existsSync(path)) {
    throw new UserError(`control socket ${path}: a file that is not a socket is in the way`);
  }
  mkdirSync(dirname(path), { recursive: true });
  const server: Server = createServer((connection) => serve(machine, connection));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new UserError(`control socket ${path}: ${e.code ?? e.message}`)));
    // bind() makes the socket file with the process's umask; a umask of 0177 around it
    // makes it 0600 at birth (a chmod after listen() would leave a window). Node binds a
    // Unix socket synchronously inside listen(), so the umask is back before anything else
    // of this process runs.
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => resolve());
    } finally {
      process.umask(umask);
    }
  });
  return {
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          rmSync(path, { force: true });
          // A per-namespace directory goes with its last socket.
          if (dirname(path) !== '/run/bpf2wasm') {
            try {
              rmdirSync(dirname(path));
            } catch {
              // not empty, or not ours
            }
          }
          resolve();
        }),
      ),
  };
}

/** One connection: requests answered in order; none read while a reply waits to drain. */
function serve(machine: BpfMachine, connection: Socket): void {
  let buffer = '';
  let waiting = false;
  const pump = (): void => {
    let newline: number;
    while (!waiting && (newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!connection.write(`${JSON.stringify(answer(machine, line))}\n`)) {
        // A client that does not read its replies gets no more answers until it does.
        waiting = true;
        connection.pause();
        connection.once('drain', () => {
          waiting = false;
          connection.resume();
          pump();
        });
      }
    }
  };
  connection.setEncoding('utf8');
  connection.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_REQUEST_CHARS && buffer.lastIndexOf('\n', MAX_REQUEST_CHARS) < 0) {
      buffer = '';
      connection.removeAllListeners('data');
      connection.end(`${JSON.stringify({ error: `malformed request: longer than ${MAX_REQUEST_CHARS} characters` })}\n`);
      return;
    }
    pump();
  });
  connection.on('error', () => undefined); // a client that went away
}

function answer(machine: BpfMachine, line: string): ControlReply {
  const r = parseRequest(line);
  if ('error' in r) return r;
  try {
    if (r.op === 'dump') return dumpPage(machine, r.map, r.cursor, r.limit);
    return { lines: [...mapCommand(machine, r.op, r.map, r.key, r.value)] };
  } catch (e) {
    if (e instanceof UserError) return { error: e.message };
    return { error: `internal error: ${(e as Error)?.message ?? String(e)}` };
  }
}
