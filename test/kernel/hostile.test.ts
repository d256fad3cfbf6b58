// Hostile XDP programs (test/fixtures/hostile/*.c), one per class of memory-safety bug:
// the kernel's verifier (privileged, as katran is loaded) is the oracle, and bpf2wasm's
// memory-safety model (verify with memorySafety: true) must refuse each one the kernel
// refuses, with the kernel's reason — and accept the ones the kernel accepts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { kernelMissing } from '../../native/kernel.js';
import { skip } from '../support/skip.js';
import { fixtureObjects, kernelVerdict, ourVerdict } from '../support/fixture-verdicts.js';

const dir = join(packageRoot, 'test/fixtures/hostile');
const unavailable = kernelMissing();

interface Case {
  file: string;
  /** The kernel's reason (undefined: the kernel loads it). */
  kernel?: RegExp;
  /** Ours, at the same instruction text the kernel names. */
  ours?: RegExp;
}

const CASES: Case[] = [
  {
    file: 'map_value_oob_write',
    kernel: /invalid access to map value, value_size=8 off=8 size=4/,
    ours: /invalid access to map value, value_size=8 off=8 size=4/,
  },
  {
    file: 'map_value_bad_offset_read',
    kernel: /invalid access to map value, value_size=8 off=4096 size=8/,
    ours: /invalid access to map value, value_size=8 off=4096 size=8/,
  },
  // The kernel does not follow a division or a modulo, even of constants: the index is unknown.
  {
    file: 'div_result_unknown',
    kernel: /math between map_value pointer and register with unbounded min value is not allowed/,
    ours: /math between map_value pointer and register with unbounded min value is not allowed/,
  },
  {
    file: 'mod_result_unknown',
    kernel: /math between map_value pointer and register with unbounded min value is not allowed/,
    ours: /math between map_value pointer and register with unbounded min value is not allowed/,
  },
  { file: 'null_deref_lookup', kernel: /R0 invalid mem access 'map_value_or_null'/, ours: /R0 invalid mem access 'map_value_or_null'/ },
  { file: 'null_write', kernel: /R1 invalid mem access 'scalar'/, ours: /R1 invalid mem access 'scalar'/ },
  {
    file: 'packet_unchecked',
    kernel: /invalid access to packet, off=0 size=4, R1\(id=0,off=0,r=0\)/,
    ours: /invalid access to packet, off=0 size=4, R1\(id=0,off=0,r=0\); R1 offset is outside of the packet/,
  },
  {
    file: 'packet_beyond_check',
    kernel: /invalid access to packet, off=14 size=4, R2\(id=0,off=14,r=14\)/,
    ours: /invalid access to packet, off=14 size=4, R2\(id=0,off=14,r=14\)/,
  },
  {
    file: 'stack_misaligned',
    kernel: /misaligned stack access off 0\+0\+-97 size 8/,
    ours: /misaligned stack access off 0\+0\+-97 size 8/,
  },
  { file: 'stack_narrow_pointer_spill', kernel: /invalid size of register spill/, ours: /invalid size of register spill/ },
  { file: 'stack_narrow_pointer_fill', kernel: /invalid size of register fill/, ours: /invalid size of register fill/ },
  {
    file: 'spill_scrub_forgets_zeroes',
    kernel: /R0 invalid mem access 'map_value_or_null'/,
    ours: /R0 invalid mem access 'map_value_or_null'/,
  },
  {
    file: 'atomic_misaligned_value',
    kernel: /misaligned value access off 0\+0\+2 size 4/,
    ours: /misaligned value access off 0\+0\+2 size 4/,
  },
  { file: 'stack_out_of_frame', kernel: /invalid write to stack R10 off=-520 size=8/, ours: /invalid write to stack R10 off=-520 size=8/ },
  // Found by the verifier fuzz (seed 2): the variable offset must stay within ±2^29.
  {
    file: 'pkt_var_offset_out_of_bounds',
    kernel: /2: \(1f\) r2 -= r3 \/ value -4294967295 makes pkt pointer be out of bounds/,
    ours: /instruction 2 \(sub %r2, %r3\): value -4294967295 makes pkt pointer be out of bounds/,
  },
  // Privileged loaders may read uninitialised stack (env->allow_uninit_stack): both load it.
  { file: 'uninit_stack_helper' },
  // Both walk bpf_loop callbacks as loops headed by the call, and run out of pending
  // branches at the same instruction.
  {
    file: 'nested_loop_complexity',
    kernel: /24: \(6d\) if r6 s> r1 goto pc\+2 \/ The sequence of 8193 jumps is too complex/,
    ours: /instruction 24 \(jsgt %r6, %r1, \+2\): The sequence of 8193 jumps is too complex/,
  },
  // Safe in the callback's first iterations, out of the frame in the eighth.
  {
    file: 'callback_later_iteration_oob',
    kernel: /17: \(73\) \*\(u8 \*\)\(r3 \+8\) = r1 \/ invalid write to stack R3 off=56 size=1/,
    ours: /instruction 17 \(stxb \[%r3\+8\], %r1\): invalid write to stack R3 off=56 size=1/,
  },
  // A callback counting in its context: the count is widened, the iterations converge.
  { file: 'accept_callback_counter' },
  {
    file: 'helper_packet_as_map_value',
    kernel: /invalid access to packet, off=0 size=8, R3\(id=0,off=0,r=0\)/,
    ours: /invalid access to packet, off=0 size=8, R3\(id=0,off=0,r=0\)/,
  },
  { file: 'ctx_write', kernel: /invalid bpf_context access off=0 size=4/, ours: /invalid bpf_context access off=0 size=4/ },
  {
    file: 'pkt_end_arithmetic',
    kernel: /R2 pointer arithmetic on pkt_end prohibited/,
    ours: /R2 pointer arithmetic on pkt_end prohibited/,
  },
  // The addon keeps the log's last lines: the two states the kernel's loop check prints
  // after "infinite loop detected at insn 1", equal at the loop head.
  { file: 'unbounded_loop', kernel: /cur state: R1=1 R10=fp0 \/ old state: R1=P1 R10=fp0/, ours: /infinite loop detected at insn 1/ },
  // Ring buffer space reserved and not submitted or discarded on one path to exit.
  { file: 'ringbuf_unreleased', kernel: /Unreleased reference id=\d+ alloc_insn=5/, ours: /Unreleased reference id=\d+ alloc_insn=5/ },
  // References are checked where the main program exits (check_reference_leak skips
  // subprogram and callback frames): a callback's leak shows at the program's exit...
  {
    file: 'ringbuf_callback_unreleased',
    kernel: /Unreleased reference id=\d+ alloc_insn=13 \/ BPF_EXIT instruction in main prog would lead to reference leak/,
    ours: /instruction 7 \(exit\): Unreleased reference id=\d+ alloc_insn=13; BPF_EXIT instruction in main prog would lead to reference leak/,
  },
  // ...and a static function may return what it reserved, for its caller to release.
  {
    file: 'ringbuf_subprog_unreleased',
    kernel: /Unreleased reference id=\d+ alloc_insn=19 \/ BPF_EXIT instruction in main prog/,
    ours: /instruction 14 \(exit\): Unreleased reference id=\d+ alloc_insn=19/,
  },
  { file: 'accept_ringbuf_subprog' },
  // Global functions are verified on their own, from their BTF signature: not with what
  // the caller knows (the argument is any scalar; the result is any scalar)...
  {
    file: 'global_func_no_caller_context',
    kernel: /16: \(71\) r7 = \*\(u8 \*\)\(r0 \+0\) \/ R0 unbounded memory access/,
    ours: /instruction 16 \(ldxb %r7, \[%r0\+0\]\): R0 unbounded memory access/,
  },
  {
    file: 'global_func_result_unknown',
    kernel: /15: \(71\) r6 = \*\(u8 \*\)\(r8 \+0\) \/ R8 unbounded memory access/,
    ours: /instruction 15 \(ldxb %r6, \[%r8\+0\]\): R8 unbounded memory access/,
  },
  // ...a pointer argument may be NULL, and is memory, not a ring buffer reservation...
  {
    file: 'global_func_no_null_check',
    kernel: /9: \(61\) r2 = \*\(u32 \*\)\(r1 \+0\) \/ R1 invalid mem access 'mem_or_null'/,
    // One register type serves ring buffer memory and global functions' memory arguments here.
    ours: /instruction 9 \(ldxw %r2, \[%r1\+0\]\): R1 invalid mem access 'ringbuf_mem_or_null'/,
  },
  {
    file: 'global_func_submits_arg',
    kernel: /10: \(85\) call bpf_ringbuf_submit#132 \/ R1 type=mem expected=ringbuf_mem/,
    ours: /instruction 10 \(call 132\): R1 must be referenced when passed to release function/,
  },
  // ...and each call's arguments must fit the signature.
  {
    file: 'global_func_arg_not_ctx',
    kernel: /arg#0 expects pointer to ctx \/ Caller passes invalid args into func#1 \('global_queue'\)/,
    ours: /instruction 6 \(call local \+2\): arg#0 expects pointer to ctx/,
  },
  { file: 'accept_global_funcs' },
  // The one difference on purpose: the kernel accepts reading its struct bpf_map through a
  // map pointer; bpf2wasm cannot give those values at run time and says so.
  {
    file: 'map_ptr_field_read',
    ours: /instruction 2 \(ldxw %r1, \[%r1\+0\]\): R1 reads struct bpf_map of map 'small' through its pointer .*not available in userspace/,
  },
  // r0 is set on every path the kernel walks: pick(1) never takes the branch that skips it.
  { file: 'accept_r0_reachable_paths' },
  // A 4-byte spill over zeroed stack leaves the other 4 bytes zero: a constant array key.
  { file: 'accept_narrow_spill_keeps_zeroes' },
  // XDP dynptrs (compiler/verifier/dynptr.ts): a dynptr must be made before use, lives in
  // two whole stack slots, dies when a store touches either, and its bytes are not the
  // program's; slices are NULL-checked, sized by a constant, read-only from
  // bpf_dynptr_slice, and gone after a helper that changes the packet.
  {
    file: 'dynptr_uninit',
    kernel: /6: \(85\) call bpf_dynptr_slice#\d+ \/ Expected an initialized dynptr as arg #0/,
    ours: /instruction 6 \(call kfunc 5\): Expected an initialized dynptr as arg #0/,
  },
  {
    file: 'dynptr_overwritten',
    kernel: /15: \(85\) call bpf_dynptr_read#201 \/ Expected an initialized dynptr as arg #2/,
    ours: /instruction 15 \(call 201\): Expected an initialized dynptr as arg #2/,
  },
  {
    file: 'dynptr_raw_read',
    kernel: /5: \(79\) r1 = \*\(u64 \*\)\(r6 \+8\) \/ invalid read from stack off -8\+0 size 8/,
    ours: /instruction 5 \(ldxdw %r1, \[%r6\+8\]\): invalid read from stack off -8\+0 size 8/,
  },
  {
    file: 'dynptr_helper_overwrite',
    kernel: /10: \(85\) call bpf_xdp_load_bytes#189 \/ potential write to dynptr at off=-16 disallowed/,
    ours: /instruction 10 \(call 189\): potential write to dynptr at off=-16 disallowed/,
  },
  {
    file: 'dynptr_misaligned',
    kernel: /cannot pass in dynptr at an offset=-20 \/ Dynptr has to be an uninitialized dynptr/,
    ours: /instruction 3 \(call kfunc 4\): cannot pass in dynptr at an offset=-20; Dynptr has to be an uninitialized dynptr/,
  },
  {
    file: 'dynptr_slice_after_adjust_head',
    kernel: /18: \(71\) r1 = \*\(u8 \*\)\(r7 \+0\) \/ R7 invalid mem access 'scalar'/,
    ours: /instruction 18 \(ldxb %r1, \[%r7\+0\]\): R7 invalid mem access 'scalar'/,
  },
  {
    file: 'dynptr_rdonly_slice_write',
    kernel: /15: \(73\) \*\(u8 \*\)\(r1 \+0\) = r0 \/ R1 cannot write into rdonly_mem/,
    ours: /instruction 15 \(stxb \[%r1\+0\], %r0\): R1 cannot write into rdonly_mem/,
  },
  {
    file: 'dynptr_slice_oob',
    kernel: /invalid access to memory, mem_size=4 off=4 size=1/,
    ours: /instruction 14 \(ldxb %r1, \[%r1\+4\]\): invalid access to memory, mem_size=4 off=4 size=1/,
  },
  {
    file: 'dynptr_slice_unchecked',
    kernel: /11: \(71\) r1 = \*\(u8 \*\)\(r0 \+0\) \/ R0 invalid mem access 'mem_or_null'/,
    ours: /instruction 11 \(ldxb %r1, \[%r0\+0\]\): R0 invalid mem access 'mem_or_null'/,
  },
  {
    file: 'dynptr_slice_var_size',
    kernel: /16: \(85\) call bpf_dynptr_slice#\d+ \/ R4 must be a known constant/,
    ours: /instruction 16 \(call kfunc 5\): R4 must be a known constant/,
  },
  {
    file: 'dynptr_small_buffer',
    kernel: /invalid read from stack R3 off -20\+4 size 8 \/ arg#2 arg#3 memory, len pair leads to invalid memory access/,
    ours: /instruction 15 \(call kfunc 5\): invalid read from stack R3 off -20\+4 size 8; arg#2 arg#3 memory, len pair/,
  },
  // What bpf_dynptr_data gave dies with its dynptr...
  {
    file: 'dynptr_data_after_overwrite',
    kernel: /16: \(71\) r1 = \*\(u8 \*\)\(r2 \+0\) \/ R2 invalid mem access 'scalar'/,
    ours: /instruction 16 \(ldxb %r1, \[%r2\+0\]\): R2 invalid mem access 'scalar'/,
  },
  // ...a slice, which points into the packet or its buffer, does not.
  { file: 'accept_dynptr_slice_after_overwrite' },
  // Remaking a dynptr over an old one, and over zeroed slots, is allowed (no reference is held).
  { file: 'accept_dynptr_reinit' },
  // A dynptr made by the caller, used by a static function through a pointer to its stack.
  { file: 'accept_dynptr_subprog' },
  // The kernel accepts bpf_dynptr_data on an XDP dynptr; it answers NULL at run time.
  { file: 'accept_dynptr_data_xdp' },
];

const objectOf = fixtureObjects(dir);

for (const c of CASES) {
  test(`${c.file}: ${c.kernel ? 'refused' : 'accepted'} by the kernel`, () => {
    if (unavailable) return void skip(`kernel verdict on ${c.file}`, unavailable);
    const verdict = kernelVerdict(objectOf(c.file));
    if (c.kernel === undefined) assert.is(verdict, undefined, `kernel refused: ${verdict}`);
    else assert.match(verdict ?? 'accepted', c.kernel);
  });
  test(`${c.file}: ${c.ours ? 'refused' : 'accepted'} by bpf2wasm's memory-safety model`, () => {
    const verdict = ourVerdict(objectOf(c.file));
    if (c.ours === undefined) assert.is(verdict, undefined, `refused: ${verdict}`);
    else assert.match(verdict ?? 'accepted', c.ours);
  });
}

test('the kernel-style reason names the instruction index and its disassembly', () => {
  const message = ourVerdict(objectOf('stack_out_of_frame'))!;
  assert.match(message, /^stack_out_of_frame: instruction 1 \(stxdw \[%r10-520\], %r1\): invalid write to stack/);
});

test.run();
