// Sets of stack slots per call frame as bits: two 32-bit words per frame (64 slots of 8
// bytes). The path walk copies and tests these on every fork and pruning check, so they
// are small arrays of int32 words rather than sets of objects (plain arrays: V8 allocates
// typed arrays much more slowly, and the walk makes thousands).

export type SlotSet = number[];

export const slotSet = (frames: number): SlotSet => new Array<number>(frames * 2).fill(0);
export const hasSlot = (set: SlotSet, frame: number, slot: number): boolean => ((set[frame * 2 + (slot >> 5)]! >>> (slot & 31)) & 1) === 1;
export function addSlot(set: SlotSet, frame: number, slot: number): void {
  set[frame * 2 + (slot >> 5)]! |= 1 << (slot & 31);
}
export function removeSlot(set: SlotSet, frame: number, slot: number): void {
  set[frame * 2 + (slot >> 5)]! &= ~(1 << (slot & 31));
}
export function addFrame(set: SlotSet, frame: number): void {
  // -1, not 0xffffffff: the same 32 bits as an int32, so the array keeps small-integer elements.
  set[frame * 2] = -1;
  set[frame * 2 + 1] = -1;
}
export function clearFrame(set: SlotSet, frame: number): void {
  set[frame * 2] = 0;
  set[frame * 2 + 1] = 0;
}
/** Calls fn(frame, slot) for every member, frames below `frames` only. */
export function forEachSlot(set: SlotSet, frames: number, fn: (frame: number, slot: number) => void): void {
  const n = Math.min(frames * 2, set.length);
  for (let w = 0; w < n; w++) {
    let bits = set[w]!;
    while (bits !== 0) {
      const b = 31 - Math.clz32(bits & -bits);
      bits &= bits - 1;
      fn(w >> 1, (w & 1) * 32 + b);
    }
  }
}
export function isEmptySet(set: SlotSet): boolean {
  for (let w = 0; w < set.length; w++) if (set[w] !== 0) return false;
  return true;
}
