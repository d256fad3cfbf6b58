(module
 (type $0 (func (param i64 i64 i64 i64 i64 i64) (result i64)))
 (type $1 (func (param i32 i32) (result i64)))
 (type $2 (func (param i32 i32) (result i32)))
 (type $3 (func (param i32 i32 i32)))
 (import "env" "memory" (memory $0 22 65536 shared))
 (global $budget_limit (mut i32) (i32.const 2147483647))
 (global $stack_top (mut i64) (i64.const 0))
 (export "array_lookup" (func $array_lookup$entry))
 (export "array_lookup$r0_32" (func $array_lookup$entry32))
 (export "bpf2wasm_init" (func $bpf2wasm_init))
 (func $array_lookup@0 (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (param $5 i64) (result i64)
  (i64.store32 align=1
   (i32.sub
    (i32.wrap_i64
     (local.get $5)
    )
    (i32.const 4)
   )
   (i64.const 3)
  )
  (if
   (i64.ne
    (local.tee $0
     (if (result i64)
      (i64.lt_u
       (local.tee $0
        (i64.load32_u align=1
         (i32.wrap_i64
          (i64.sub
           (local.get $5)
           (i64.const 4)
          )
         )
        )
       )
       (i64.const 16)
      )
      (then
       (i64.add
        (i64.shl
         (local.get $0)
         (i64.const 3)
        )
        (i64.const 327680)
       )
      )
      (else
       (i64.const 0)
      )
     )
    )
    (i64.const 0)
   )
   (then
    (i64.store align=1
     (i32.wrap_i64
      (local.get $0)
     )
     (i64.add
      (i64.load align=1
       (i32.wrap_i64
        (local.get $0)
       )
      )
      (i64.const 1)
     )
    )
   )
  )
  (i64.const 2)
 )
 (func $array_lookup$entry (param $0 i32) (param $1 i32) (result i64)
  (drop
   (global.get $budget_limit)
  )
  (call $array_lookup@0
   (i64.extend_i32_u
    (local.get $0)
   )
   (i64.extend_i32_u
    (local.get $1)
   )
   (i64.const 0)
   (i64.const 0)
   (i64.const 0)
   (global.get $stack_top)
  )
 )
 (func $array_lookup$entry32 (param $0 i32) (param $1 i32) (result i32)
  (i32.wrap_i64
   (call $array_lookup$entry
    (local.get $0)
    (local.get $1)
   )
  )
 )
 (func $bpf2wasm_init (param $0 i32) (param $1 i32) (param $2 i32)
  (drop
   (local.get $0)
  )
  (global.set $stack_top
   (i64.extend_i32_u
    (local.get $1)
   )
  )
  (global.set $budget_limit
   (select
    (local.get $2)
    (i32.const 2147483647)
    (local.get $2)
   )
  )
 )
 ;; custom section "bpf2wasm.manifest", size 717, contents: "{\"version\":2,\"source\":\"array_lookup\",\"license\":\"GPL\",\"layout\":{\"nullPage\":65536,\"descBase\":65536,\"descSize\":64,\"descCount\":4096,\"maxCpus\":16,\"heapBase\":393216,\"initialPages\":22,\"maxPages\":65536},\"maps\":[{\"name\":\"counters\",\"type\":2,\"typeName\":\"array\",\"keySize\":4,\"valueSize\":8,\"maxEntries\":16,\"flags\":0,\"section\":\".maps\",\"placement\":{\"handle\":65536,\"storage\":327680,\"valueStride\":8,\"cpuStride\":128}}],\"programs\":[{\"name\":\"array_lookup\",\"section\":\"xdp\",\"export\":\"array_lookup\",\"insnCount\":11,\"helpers\":[1],\"tableIndex\":0,\"code\":\"Ygr8/wMAAAC/ogAAAAAAAAcCAAD8////GFEAAAAAAAAAAAAAAAAAAIUAAAABAAAAFQADAAAAAAB5AQAAAAAAAAcBAAABAAAAexAAAAAAAAC3AAAAAgAAAJUAAAAAAAAA\",\"funcs\":[{\"name\":\"array_lookup\",\"start\":0}]}],\"helpers\":[1]}"
)
