// The control socket of a running instance: `bpf2wasm map dump|lookup|update|delete
// <socket> MAP ...` reaches the maps of a live `bpf2wasm run` through it. A Unix socket
// (root-only, 0600) speaking one JSON request and one JSON reply per line; the main thread
// answers from the shared maps, so an update is what the workers see on their next packet.

import { createConnection, createServer, type Server } from 'node:net';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { BpfMachine } from '../runtime/machine.js';
import { mapCommand } from '../runtime/map-commands.js';

export interface ControlRequest { op: string; map: string; key?: string; value?: string }
type ControlReply = { lines: string[] } | { error: string };

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
      const probe = createConnection(path, () => { probe.destroy(); resolve(true); });
      probe.once('error', () => resolve(false));
    });
    if (alive) throw new UserError(`control socket ${path} is in use by another instance`);
    rmSync(path, { force: true }); // left behind by an instance that died
  } else if (existsSync(path)) {
    throw new UserError(`control socket ${path}: a file that is not a socket is in the way`);
  }
  mkdirSync(dirname(path), { recursive: true });
  const server: Server = createServer((connection) => {
    let buffer = '';
    connection.setEncoding('utf8');
    connection.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        connection.write(`${JSON.stringify(answer(machine, line))}\n`);
      }
    });
    connection.on('error', () => undefined); // a client that went away
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new UserError(`control socket ${path}: ${e.code ?? e.message}`)));
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    close: () => new Promise<void>((resolve) => server.close(() => {
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
    })),
  };
}

function answer(machine: BpfMachine, line: string): ControlReply {
  try {
    const r = JSON.parse(line) as ControlRequest;
    if (typeof r?.op !== 'string' || typeof r.map !== 'string') return { error: 'malformed request' };
    return { lines: mapCommand(machine, r.op, r.map, r.key, r.value) };
  } catch (e) {
    return { error: e instanceof UserError ? e.message : `malformed request (${(e as Error).message})` };
  }
}

/** One request to a running instance; its error comes back as a UserError. */
export function queryInstance(path: string, request: ControlRequest): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      socket.end();
      const reply = JSON.parse(buffer.slice(0, newline)) as ControlReply;
      if ('error' in reply) reject(new UserError(`${path}: ${reply.error}`));
      else resolve(reply.lines);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => reject(new UserError(`cannot reach the instance at ${path} (${e.code ?? e.message})`)));
  });
}
