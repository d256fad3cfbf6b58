(module
 (type $0 (func (param i64 i64 i64 i64 i64 i64) (result i64)))
 (type $1 (func (param i32 i32) (result i64)))
 (type $2 (func (param i32 i32) (result i32)))
 (type $3 (func (param i32 i32)))
 (type $4 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 21 65536 shared))
 (global $stack_top (mut i64) (i64.const 0))
 (global $xdp_ctx (mut i32) (i32.const 0))
 (export "loop_verified" (func $loop_verified$entry))
 (export "loop_verified$r0_32" (func $loop_verified$entry32))
 (export "loop_verified$batch" (func $loop_verified$batch))
 (export "bpf2wasm_init" (func $bpf2wasm_init))
 (func $loop_verified@0 (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (param $5 i64) (result i64)
  (local.set $0
   (i64.const 0)
  )
  (local.set $1
   (i64.const 16)
  )
  (loop $shape$1$continue
   (block $block$3$break
    (local.set $0
     (i64.add
      (local.get $0)
      (local.get $1)
     )
    )
    (br_if $block$3$break
     (i64.le_s
      (local.tee $1
       (i64.sub
        (local.get $1)
        (i64.const 1)
       )
      )
      (i64.const 0)
     )
    )
    (local.set $0
     (i64.add
      (local.get $0)
      (local.get $1)
     )
    )
    (br_if $block$3$break
     (i64.le_s
      (local.tee $1
       (i64.sub
        (local.get $1)
        (i64.const 1)
       )
      )
      (i64.const 0)
     )
    )
    (local.set $0
     (i64.add
      (local.get $0)
      (local.get $1)
     )
    )
    (br_if $block$3$break
     (i64.le_s
      (local.tee $1
       (i64.sub
        (local.get $1)
        (i64.const 1)
       )
      )
      (i64.const 0)
     )
    )
    (local.set $0
     (i64.add
      (local.get $0)
      (local.get $1)
     )
    )
    (br_if $block$3$break
     (i64.le_s
      (local.tee $1
       (i64.sub
        (local.get $1)
        (i64.const 1)
       )
      )
      (i64.const 0)
     )
    )
    (local.set $0
     (i64.add
      (local.get $0)
      (local.get $1)
     )
    )
    (br_if $block$3$break
     (i64.le_s
      (local.tee $1
       (i64.sub
        (local.get $1)
        (i64.const 1)
       )
      )
      (i64.const 0)
     )
    )
    (local.set $0
     (i64.add
      (local.get $0)
      (local.get $1)
     )
    )
    (br_if $block$3$break
     (i64.le_s
      (local.tee $1
       (i64.sub
        (local.get $1)
        (i64.const 1)
       )
      )
      (i64.const 0)
     )
    )
    (local.set $0
     (i64.add
      (local.get $0)
      (local.get $1)
     )
    )
    (br_if $block$3$break
     (i64.le_s
      (local.tee $1
       (i64.sub
        (local.get $1)
        (i64.const 1)
       )
      )
      (i64.const 0)
     )
    )
    (local.set $0
     (i64.add
      (local.get $0)
      (local.get $1)
     )
    )
    (br_if $shape$1$continue
     (i64.gt_s
      (local.tee $1
       (i64.sub
        (local.get $1)
        (i64.const 1)
       )
      )
      (i64.const 0)
     )
    )
   )
  )
  (local.get $0)
 )
 (func $loop_verified$entry (param $0 i32) (param $1 i32) (result i64)
  (call $loop_verified@0
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
 (func $loop_verified$entry32 (param $0 i32) (param $1 i32) (result i32)
  (i32.wrap_i64
   (call $loop_verified$entry
    (local.get $0)
    (local.get $1)
   )
  )
 )
 (func $loop_verified$batch (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
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
  (i32.store offset=40
   (local.get $2)
   (i32.const 0)
  )
  (i32.store offset=52
   (local.get $2)
   (i32.const 0)
  )
  (local.set $3
   (i32.const 0)
  )
  (local.set $5
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
     (local.get $5)
    )
    (then
     (i32.store offset=36
      (local.get $2)
      (local.get $3)
     )
     (if
      (i32.lt_u
       (local.tee $1
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
      )
      (else
       (if
        (i32.lt_u
         (local.tee $6
          (i32.sub
           (i32.add
            (i32.load offset=4
             (local.get $0)
            )
            (i32.load
             (local.get $0)
            )
           )
           (i32.const 320)
          )
         )
         (local.tee $1
          (i32.add
           (local.tee $4
            (i32.load offset=8
             (local.get $0)
            )
           )
           (local.get $1)
          )
         )
        )
        (then
         (i32.store offset=12
          (local.get $0)
          (i32.sub
           (local.tee $1
            (local.get $6)
           )
           (local.get $4)
          )
         )
        )
       )
       (i32.store
        (local.get $2)
        (local.get $4)
       )
       (i32.store offset=4
        (local.get $2)
        (local.get $1)
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
       (i64.store32 offset=24
        (local.get $0)
        (call $loop_verified@0
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
      )
     )
     (local.set $3
      (i32.add
       (local.get $3)
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
 ;; custom section "bpf2wasm.manifest", size 482, contents: "{\"version\":7,\"source\":\"loop_verified\",\"license\":\"GPL\",\"layout\":{\"nullPage\":65536,\"descBase\":65536,\"descSize\":64,\"descCount\":4096,\"maxCpus\":16,\"heapBase\":327680,\"initialPages\":21,\"maxPages\":65536},\"maps\":[],\"programs\":[{\"name\":\"loop_verified\",\"section\":\"xdp\",\"export\":\"loop_verified\",\"insnCount\":6,\"helpers\":[],\"tableIndex\":0,\"code\":\"twAAAAAAAAC3AgAAEAAAAA8gAAAAAAAABwIAAP////9lAv3/AAAAAJUAAAAAAAAA\",\"funcs\":[{\"name\":\"loop_verified\",\"start\":0}],\"budgetedBackEdges\":[]}],\"helpers\":[]}"
)
