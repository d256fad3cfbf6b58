(module
 (type $0 (func (param i64 i64 i64 i64 i64) (result i64)))
 (type $1 (func (param i32 i32) (result i32)))
 (type $2 (func (result i64)))
 (type $3 (func (param i64) (result i64)))
 (type $4 (func (param i32 i32 i64) (result i64)))
 (type $5 (func (param i64 i64 i64 i64 i64 i64) (result i64)))
 (type $6 (func (param i32 i32) (result i64)))
 (type $7 (func (param i32 i32)))
 (type $8 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 21 65536 shared))
 (import "helpers" "ktime_get_ns" (func $helper$ktime_get_ns (param i64 i64 i64 i64 i64) (result i64)))
 (import "helpers" "csum_diff" (func $helper$csum_diff (param i64 i64 i64 i64 i64) (result i64)))
 (import "helpers" "xdp_adjust_tail" (func $helper32$xdp_adjust_tail (param i32 i32) (result i32)))
 (global $stack_top (mut i64) (i64.const 0))
 (global $xdp_ctx (mut i32) (i32.const 0))
 (global $init_flags (mut i32) (i32.const 0))
 (export "batch_helpers" (func $batch_helpers$entry))
 (export "batch_helpers$r0_32" (func $batch_helpers$entry32))
 (export "batch_helpers$batch" (func $batch_helpers$batch))
 (export "bpf2wasm_init" (func $bpf2wasm_init))
 (func $get_prandom_u32$wasm (result i64)
  (local $0 i32)
  (local $1 i32)
  (local.set $0
   (i32.xor
    (i32.shl
     (local.tee $0
      (i32.xor
       (i32.shr_u
        (local.tee $0
         (i32.xor
          (i32.shl
           (local.tee $0
            (i32.load offset=56
             (local.tee $1
              (global.get $xdp_ctx)
             )
            )
           )
           (i32.const 13)
          )
          (local.get $0)
         )
        )
        (i32.const 17)
       )
       (local.get $0)
      )
     )
     (i32.const 5)
    )
    (local.get $0)
   )
  )
  (i32.store offset=56
   (local.get $1)
   (local.get $0)
  )
  (i64.extend_i32_u
   (local.get $0)
  )
 )
 (func $ktime_get_ns$wasm (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (result i64)
  (if (result i64)
   (i32.and
    (global.get $init_flags)
    (i32.const 1)
   )
   (then
    (call $helper$ktime_get_ns
     (local.get $0)
     (local.get $1)
     (local.get $2)
     (local.get $3)
     (local.get $4)
    )
   )
   (else
    (i64.load offset=64
     (global.get $xdp_ctx)
    )
   )
  )
 )
 (func $csum_fold32$wasm (param $0 i64) (result i64)
  (loop $fold
   (if
    (i64.gt_u
     (local.get $0)
     (i64.const 4294967295)
    )
    (then
     (local.set $0
      (i64.add
       (i64.and
        (local.get $0)
        (i64.const 4294967295)
       )
       (i64.shr_u
        (local.get $0)
        (i64.const 32)
       )
      )
     )
     (br $fold)
    )
   )
  )
  (local.get $0)
 )
 (func $csum_partial$wasm (param $0 i32) (param $1 i32) (param $2 i64) (result i64)
  (local $3 i32)
  (local $4 i32)
  (local.set $4
   (i32.and
    (local.get $1)
    (i32.const -4)
   )
  )
  (local.set $3
   (i32.const 0)
  )
  (loop $words
   (if
    (i32.lt_u
     (local.get $3)
     (local.get $4)
    )
    (then
     (local.set $2
      (i64.add
       (local.get $2)
       (i64.load32_u align=1
        (i32.add
         (local.get $0)
         (local.get $3)
        )
       )
      )
     )
     (local.set $3
      (i32.add
       (local.get $3)
       (i32.const 4)
      )
     )
     (br $words)
    )
   )
  )
  (if
   (i32.and
    (local.get $1)
    (i32.const 2)
   )
   (then
    (local.set $2
     (i64.add
      (local.get $2)
      (i64.load16_u align=1
       (i32.add
        (local.get $0)
        (local.get $4)
       )
      )
     )
    )
   )
  )
  (call $csum_fold32$wasm
   (if (result i64)
    (i32.and
     (local.get $1)
     (i32.const 1)
    )
    (then
     (i64.add
      (local.get $2)
      (i64.load8_u
       (i32.add
        (local.get $0)
        (i32.and
         (local.get $1)
         (i32.const -2)
        )
       )
      )
     )
    )
    (else
     (local.get $2)
    )
   )
  )
 )
 (func $csum_diff$wasm (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (result i64)
  (local $5 i64)
  (if
   (i32.or
    (i32.or
     (i64.gt_u
      (local.get $1)
      (i64.const 65535)
     )
     (i64.gt_u
      (local.get $3)
      (i64.const 65535)
     )
    )
    (i32.or
     (i64.lt_u
      (local.tee $5
       (i64.shl
        (i64.extend_i32_u
         (memory.size)
        )
        (i64.const 16)
       )
      )
      (i64.add
       (i64.and
        (local.get $0)
        (i64.const 4294967295)
       )
       (local.get $1)
      )
     )
     (i64.gt_u
      (i64.add
       (i64.and
        (local.get $2)
        (i64.const 4294967295)
       )
       (local.get $3)
      )
      (local.get $5)
     )
    )
   )
   (then
    (return
     (call $helper$csum_diff
      (local.get $0)
      (local.get $1)
      (local.get $2)
      (local.get $3)
      (local.get $4)
     )
    )
   )
  )
  (local.set $4
   (i64.and
    (local.get $4)
    (i64.const 4294967295)
   )
  )
  (i64.add
   (i64.and
    (local.tee $4
     (i64.add
      (i64.and
       (local.tee $4
        (if (result i64)
         (i32.and
          (i64.ne
           (local.get $1)
           (i64.const 0)
          )
          (i64.ne
           (local.get $3)
           (i64.const 0)
          )
         )
         (then
          (call $csum_fold32$wasm
           (i64.add
            (call $csum_partial$wasm
             (i32.wrap_i64
              (local.get $2)
             )
             (i32.wrap_i64
              (local.get $3)
             )
             (local.get $4)
            )
            (i64.and
             (i64.xor
              (call $csum_partial$wasm
               (i32.wrap_i64
                (local.get $0)
               )
               (i32.wrap_i64
                (local.get $1)
               )
               (i64.const 0)
              )
              (i64.const -1)
             )
             (i64.const 4294967295)
            )
           )
          )
         )
         (else
          (if (result i64)
           (i64.ne
            (local.get $3)
            (i64.const 0)
           )
           (then
            (call $csum_partial$wasm
             (i32.wrap_i64
              (local.get $2)
             )
             (i32.wrap_i64
              (local.get $3)
             )
             (local.get $4)
            )
           )
           (else
            (if (result i64)
             (i64.ne
              (local.get $1)
              (i64.const 0)
             )
             (then
              (i64.and
               (i64.xor
                (call $csum_partial$wasm
                 (i32.wrap_i64
                  (local.get $0)
                 )
                 (i32.wrap_i64
                  (local.get $1)
                 )
                 (i64.and
                  (i64.xor
                   (local.get $4)
                   (i64.const -1)
                  )
                  (i64.const 4294967295)
                 )
                )
                (i64.const -1)
               )
               (i64.const 4294967295)
              )
             )
             (else
              (local.get $4)
             )
            )
           )
          )
         )
        )
       )
       (i64.const 65535)
      )
      (i64.shr_u
       (local.get $4)
       (i64.const 16)
      )
     )
    )
    (i64.const 65535)
   )
   (i64.shr_u
    (local.get $4)
    (i64.const 16)
   )
  )
 )
 (func $xdp_adjust_meta$wasm (param $0 i32) (param $1 i32) (result i32)
  (local $2 i64)
  (local $3 i64)
  (if
   (i32.or
    (i64.lt_s
     (local.tee $3
      (i64.load32_s
       (local.tee $0
        (global.get $xdp_ctx)
       )
      )
     )
     (local.tee $2
      (i64.add
       (i64.load32_s offset=8
        (local.get $0)
       )
       (i64.extend_i32_s
        (local.get $1)
       )
      )
     )
    )
    (i64.lt_s
     (local.get $2)
     (i64.add
      (i64.load32_s offset=24
       (local.get $0)
      )
      (i64.const 40)
     )
    )
   )
   (then
    (return
     (i32.const -22)
    )
   )
  )
  (if
   (i32.or
    (i64.ne
     (i64.and
      (i64.sub
       (local.get $3)
       (local.get $2)
      )
      (i64.const 3)
     )
     (i64.const 0)
    )
    (i64.gt_s
     (i64.sub
      (local.get $3)
      (local.get $2)
     )
     (i64.const 255)
    )
   )
   (then
    (return
     (i32.const -13)
    )
   )
  )
  (i64.store32 offset=8
   (local.get $0)
   (local.get $2)
  )
  (i32.const 0)
 )
 (func $xdp_adjust_tail$wasm (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i64)
  (local $4 i64)
  (local $5 i64)
  (if
   (i32.load offset=32
    (local.tee $2
     (global.get $xdp_ctx)
    )
   )
   (then
    (return
     (call $helper32$xdp_adjust_tail
      (local.get $0)
      (local.get $1)
     )
    )
   )
  )
  (if
   (i32.or
    (i64.gt_s
     (local.tee $4
      (i64.add
       (local.tee $5
        (i64.load32_s offset=4
         (local.get $2)
        )
       )
       (local.tee $3
        (i64.extend_i32_s
         (local.get $1)
        )
       )
      )
     )
     (i64.load32_s offset=28
      (local.get $2)
     )
    )
    (i64.lt_s
     (local.get $4)
     (i64.add
      (i64.load32_s
       (local.get $2)
      )
      (i64.const 14)
     )
    )
   )
   (then
    (return
     (i32.const -22)
    )
   )
  )
  (if
   (i64.gt_s
    (local.get $3)
    (i64.const 0)
   )
   (then
    (memory.fill
     (i32.wrap_i64
      (local.get $5)
     )
     (i32.const 0)
     (i32.wrap_i64
      (local.get $3)
     )
    )
   )
  )
  (i64.store32 offset=4
   (local.get $2)
   (local.get $4)
  )
  (i32.const 0)
 )
 (func $batch_helpers@0 (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (param $5 i64) (result i64)
  (local $6 i64)
  (local.set $6
   (local.get $0)
  )
  (drop
   (call $get_prandom_u32$wasm)
  )
  (drop
   (call $ktime_get_ns$wasm
    (local.get $0)
    (local.get $1)
    (local.get $2)
    (local.get $3)
    (local.get $4)
   )
  )
  (i64.store offset=504 align=1
   (i32.sub
    (i32.wrap_i64
     (local.get $5)
    )
    (i32.const 512)
   )
   (i64.const 0)
  )
  (local.set $2
   (local.tee $0
    (i64.sub
     (local.get $5)
     (i64.const 8)
    )
   )
  )
  (drop
   (call $csum_diff$wasm
    (local.get $0)
    (i64.const 8)
    (local.get $2)
    (i64.const 8)
    (i64.const 0)
   )
  )
  (drop
   (call $xdp_adjust_meta$wasm
    (i32.wrap_i64
     (local.tee $0
      (local.get $6)
     )
    )
    (i32.const -4)
   )
  )
  (drop
   (call $xdp_adjust_tail$wasm
    (i32.wrap_i64
     (local.get $0)
    )
    (i32.const -1)
   )
  )
  (i64.const 2)
 )
 (func $batch_helpers$entry (param $0 i32) (param $1 i32) (result i64)
  (call $batch_helpers@0
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
 (func $batch_helpers$entry32 (param $0 i32) (param $1 i32) (result i32)
  (i32.wrap_i64
   (call $batch_helpers$entry
    (local.get $0)
    (local.get $1)
   )
  )
 )
 (func $batch_helpers$batch (param $0 i32) (param $1 i32)
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
        (call $batch_helpers@0
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
  (global.set $init_flags
   (local.get $4)
  )
 )
 ;; custom section "bpf2wasm.manifest", size 647, contents: "{\"version\":7,\"source\":\"batch_helpers\",\"license\":\"GPL\",\"layout\":{\"nullPage\":65536,\"descBase\":65536,\"descSize\":64,\"descCount\":4096,\"maxCpus\":16,\"heapBase\":327680,\"initialPages\":21,\"maxPages\":65536},\"maps\":[],\"programs\":[{\"name\":\"batch_helpers\",\"section\":\"xdp\",\"export\":\"batch_helpers\",\"insnCount\":19,\"helpers\":[5,7,28,54,65],\"tableIndex\":0,\"code\":\"vxYAAAAAAACFAAAABwAAAIUAAAAFAAAAegr4/wAAAAC/oQAAAAAAAAcBAAD4////twIAAAgAAAC/EwAAAAAAALcEAAAIAAAAtwUAAAAAAACFAAAAHAAAAL9hAAAAAAAAtwIAAPz///+FAAAANgAAAL9hAAAAAAAAtwIAAP////+FAAAAQQAAALcAAAACAAAAlQAAAAAAAAA=\",\"funcs\":[{\"name\":\"batch_helpers\",\"start\":0}],\"budgetedBackEdges\":[]}],\"helpers\":[5,7,28,54,65]}"
)
