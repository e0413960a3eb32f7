// A stand-in for a hostile job: in each folder given, exchanges `sub` (a real folder) and
// `.swap` (a symlink to a folder outside the data dir) atomically (renameat2 RENAME_EXCHANGE),
// as fast as it can, until killed. Run as its own process so it races the master for real.
// Prints the number of exchanges every second (the test reads the last line).
import { dlopen, FFIType, ptr } from "bun:ffi";
import { join } from "node:path";

const libc = dlopen("libc.so.6", {
  renameat2: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
});
const AT_FDCWD = -100;
const RENAME_EXCHANGE = 2;
const pairs = process.argv
  .slice(2)
  .map((dir) => [Buffer.from(`${join(dir, "sub")}\0`), Buffer.from(`${join(dir, ".swap")}\0`)] as const);
let swaps = 0;
let loops = 0;
let report = Date.now() + 1000;
for (;;) {
  for (const [a, b] of pairs)
    if (libc.symbols.renameat2(AT_FDCWD, ptr(a), AT_FDCWD, ptr(b), RENAME_EXCHANGE) === 0) swaps++;
  if ((++loops & 0x3ff) === 0 && Date.now() > report) {
    console.log(swaps);
    report = Date.now() + 1000;
  }
}
