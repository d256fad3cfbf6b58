(module
 (type $0 (func (param i64 i64 i64 i64 i64 i64) (result i64)))
 (type $1 (func (param i32 i32) (result i64)))
 (type $2 (func (param i32 i32) (result i32)))
 (type $3 (func (param i32 i32)))
 (type $4 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 22 65536 shared))
 (global $stack_top (mut i64) (i64.const 0))
 (global $xdp_ctx (mut i32) (i32.const 0))
 (export "array_lookup_constant_key" (func $array_lookup_constant_key$entry))
 (export "array_lookup_constant_key$r0_32" (func $array_lookup_constant_key$entry32))
 (export "array_lookup_constant_key$batch" (func $array_lookup_constant_key$batch))
 (export "bpf2wasm_init" (func $bpf2wasm_init))
 (func $array_lookup_constant_key@0 (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (param $5 i64) (result i64)
  (i64.store32 offset=508 align=1
   (i32.sub
    (i32.wrap_i64
     (local.get $5)
    )
    (i32.const 512)
   )
   (i64.const 3)
  )
  (if
   (block (result i32)
    (local.set $0
     (i64.const 327704)
    )
    (i32.const 1)
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
 (func $array_lookup_constant_key$entry (param $0 i32) (param $1 i32) (result i64)
  (call $array_lookup_constant_key@0
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
 (func $array_lookup_constant_key$entry32 (param $0 i32) (param $1 i32) (result i32)
  (i32.wrap_i64
   (call $array_lookup_constant_key$entry
    (local.get $0)
    (local.get $1)
   )
  )
 )
 (func $array_lookup_constant_key$batch (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (i32.store offset=20
   (local.tee $2
    (global.get $xdp_ctx)
   )
   (i32.const 0)
  )
  (i32.store offset=32
   (local.get $2)
   (i32.const 0)
  )
  (local.set $5
   (i32.const 0)
  )
  (local.set $6
   (i32.add
    (local.get $0)
    (i32.mul
     (local.get $1)
     (i32.const 44)
    )
   )
  )
  (loop $next
   (if
    (i32.lt_u
     (local.get $0)
     (local.get $6)
    )
    (then
     (i32.store offset=36
      (local.get $2)
      (local.get $5)
     )
     (if
      (i32.lt_u
       (local.tee $3
        (i32.load offset=12
         (local.get $0)
        )
       )
       (i32.const 14)
      )
      (then
       (i32.store offset=24
        (local.get $0)
        (i32.const 0)
       )
       (i32.store offset=40
        (local.get $0)
        (i32.const 0)
       )
      )
      (else
       (if
        (i32.lt_u
         (local.tee $1
          (i32.sub
           (i32.add
            (local.tee $7
             (i32.load
              (local.get $0)
             )
            )
            (i32.load offset=4
             (local.get $0)
            )
           )
           (i32.const 320)
          )
         )
         (local.tee $3
          (i32.add
           (local.tee $4
            (i32.load offset=8
             (local.get $0)
            )
           )
           (local.get $3)
          )
         )
        )
        (then
         (local.set $3
          (local.get $1)
         )
        )
       )
       (i32.store
        (local.get $2)
        (local.get $4)
       )
       (i32.store offset=4
        (local.get $2)
        (local.get $3)
       )
       (i32.store offset=8
        (local.get $2)
        (local.get $4)
       )
       (i32.store offset=12
        (local.get $2)
        (i32.load offset=16
         (local.get $0)
        )
       )
       (i32.store offset=16
        (local.get $2)
        (i32.load offset=20
         (local.get $0)
        )
       )
       (i32.store offset=24
        (local.get $2)
        (local.get $7)
       )
       (i32.store offset=28
        (local.get $2)
        (local.get $1)
       )
       (i32.store offset=40
        (local.get $2)
        (i32.const 0)
       )
       (i32.store offset=52
        (local.get $2)
        (i32.const 0)
       )
       (i64.store32 offset=24
        (local.get $0)
        (call $array_lookup_constant_key@0
         (i64.extend_i32_u
          (local.get $2)
         )
         (i64.const 0)
         (i64.const 0)
         (i64.const 0)
         (i64.const 0)
         (global.get $stack_top)
        )
       )
       (i32.store offset=8
        (local.get $0)
        (local.tee $4
         (i32.load
          (local.get $2)
         )
        )
       )
       (i32.store offset=12
        (local.get $0)
        (i32.sub
         (i32.load offset=4
          (local.get $2)
         )
         (local.get $4)
        )
       )
       (i32.store offset=40
        (local.get $0)
        (i32.sub
         (local.get $4)
         (i32.load offset=8
          (local.get $2)
         )
        )
       )
       (i32.store offset=28
        (local.get $0)
        (i32.load offset=40
         (local.get $2)
        )
       )
       (i32.store offset=32
        (local.get $0)
        (i32.load offset=44
         (local.get $2)
        )
       )
       (i32.store offset=36
        (local.get $0)
        (i32.load offset=48
         (local.get $2)
        )
       )
      )
     )
     (local.set $5
      (i32.add
       (local.get $5)
       (i32.const 1)
      )
     )
     (local.set $0
      (i32.add
       (local.get $0)
       (i32.const 44)
      )
     )
     (br $next)
    )
   )
  )
 )
 (func $bpf2wasm_init (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (drop
   (local.get $0)
  )
  (global.set $stack_top
   (i64.extend_i32_u
    (local.get $1)
   )
  )
  (drop
   (select
    (local.get $2)
    (i32.const 2147483647)
    (local.get $2)
   )
  )
  (global.set $xdp_ctx
   (local.get $3)
  )
  (drop
   (local.get $4)
  )
 )
 ;; custom section "bpf2wasm.manifest", size 792, contents: "{\"version\":7,\"source\":\"array_lookup_constant_key\",\"license\":\"GPL\",\"layout\":{\"nullPage\":65536,\"descBase\":65536,\"descSize\":64,\"descCount\":4096,\"maxCpus\":16,\"heapBase\":393216,\"initialPages\":22,\"maxPages\":65536},\"maps\":[{\"name\":\"counters\",\"type\":2,\"typeName\":\"array\",\"keySize\":4,\"valueSize\":8,\"maxEntries\":16,\"flags\":0,\"section\":\".maps\",\"placement\":{\"handle\":65536,\"storage\":327680,\"valueStride\":8,\"cpuStride\":128}}],\"programs\":[{\"name\":\"array_lookup_constant_key\",\"section\":\"xdp\",\"export\":\"array_lookup_constant_key\",\"insnCount\":11,\"helpers\":[1],\"tableIndex\":0,\"code\":\"Ygr8/wMAAAC/ogAAAAAAAAcCAAD8////GFEAAAAAAAAAAAAAAAAAAIUAAAABAAAAFQADAAAAAAB5AQAAAAAAAAcBAAABAAAAexAAAAAAAAC3AAAAAgAAAJUAAAAAAAAA\",\"funcs\":[{\"name\":\"array_lookup_constant_key\",\"start\":0}],\"budgetedBackEdges\":[]}],\"helpers\":[1]}"
)
