(module
 (type $0 (func (param i32 i32) (result i32)))
 (type $1 (func (param i32 i32 i32 i32) (result i32)))
 (type $2 (func (param i32 i32 i32)))
 (type $3 (func (param i64 i64 i64 i64 i64 i64) (result i64)))
 (type $4 (func (param i32 i32) (result i64)))
 (type $5 (func (param i32 i32)))
 (type $6 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 21 65536 shared))
 (import "helpers" "map_lookup_elem" (func $helper32$map_lookup_elem (param i32 i32) (result i32)))
 (global $stack_top (mut i64) (i64.const 0))
 (global $cpu (mut i32) (i32.const 0))
 (global $xdp_ctx (mut i32) (i32.const 0))
 (global $map_miss_len$wasm (mut i32) (i32.const 0))
 (global $map_miss_hash$wasm (mut i32) (i32.const 0))
 (global $map_miss_word$wasm0 (mut i64) (i64.const 0))
 (global $map_miss_word$wasm1 (mut i64) (i64.const 0))
 (global $map_miss_word$wasm2 (mut i64) (i64.const 0))
 (global $map_miss_word$wasm3 (mut i64) (i64.const 0))
 (global $map_miss_word$wasm4 (mut i64) (i64.const 0))
 (global $map_miss_word$wasm5 (mut i64) (i64.const 0))
 (global $map_miss_word$wasm6 (mut i64) (i64.const 0))
 (global $map_miss_word$wasm7 (mut i64) (i64.const 0))
 (export "i32_helpers" (func $i32_helpers$entry))
 (export "i32_helpers$r0_32" (func $i32_helpers$entry32))
 (export "i32_helpers$batch" (func $i32_helpers$batch))
 (export "bpf2wasm_init" (func $bpf2wasm_init))
 (func $map_hash$wasm (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i64)
  (local $4 i64)
  (local $5 i64)
  (local $6 i32)
  (local.set $4
   (i64.xor
    (i64.extend_i32_u
     (local.get $1)
    )
    (i64.const 2611923443488327891)
   )
  )
  (local.set $5
   (i64.xor
    (i64.extend_i32_u
     (local.get $1)
    )
    (i64.const 1376283091369227076)
   )
  )
  (local.set $2
   (i32.const 0)
  )
  (loop $hash_words
   (if
    (i32.le_u
     (i32.add
      (local.get $2)
      (i32.const 16)
     )
     (local.get $1)
    )
    (then
     (local.set $4
      (i64.mul
       (i64.xor
        (local.get $4)
        (i64.load align=1
         (i32.add
          (local.get $0)
          (local.get $2)
         )
        )
       )
       (i64.const -7046029254386353131)
      )
     )
     (local.set $5
      (i64.mul
       (i64.xor
        (local.get $5)
        (i64.load offset=8 align=1
         (i32.add
          (local.get $0)
          (local.get $2)
         )
        )
       )
       (i64.const -7046029254386353131)
      )
     )
     (local.set $2
      (i32.add
       (local.get $2)
       (i32.const 16)
      )
     )
     (br $hash_words)
    )
   )
  )
  (if
   (i32.le_u
    (i32.add
     (local.get $2)
     (i32.const 8)
    )
    (local.get $1)
   )
   (then
    (local.set $4
     (i64.mul
      (i64.xor
       (local.get $4)
       (i64.load align=1
        (i32.add
         (local.get $0)
         (local.get $2)
        )
       )
      )
      (i64.const -7046029254386353131)
     )
    )
    (local.set $2
     (i32.add
      (local.get $2)
      (i32.const 8)
     )
    )
   )
  )
  (if
   (i32.gt_u
    (local.get $1)
    (local.get $2)
   )
   (then
    (local.set $3
     (i64.const 0)
    )
    (local.set $6
     (local.get $2)
    )
    (loop $hash_tail
     (if
      (i32.gt_u
       (local.get $1)
       (local.get $6)
      )
      (then
       (local.set $3
        (i64.or
         (local.get $3)
         (i64.shl
          (i64.load8_u
           (i32.add
            (local.get $0)
            (local.get $6)
           )
          )
          (i64.extend_i32_u
           (i32.shl
            (i32.sub
             (local.get $6)
             (local.get $2)
            )
            (i32.const 3)
           )
          )
         )
        )
       )
       (local.set $6
        (i32.add
         (local.get $6)
         (i32.const 1)
        )
       )
       (br $hash_tail)
      )
     )
    )
    (if
     (i32.and
      (i32.shr_u
       (local.get $1)
       (i32.const 3)
      )
      (i32.const 1)
     )
     (then
      (local.set $5
       (i64.mul
        (i64.xor
         (local.get $3)
         (local.get $5)
        )
        (i64.const -7046029254386353131)
       )
      )
     )
     (else
      (local.set $4
       (i64.mul
        (i64.xor
         (local.get $3)
         (local.get $4)
        )
        (i64.const -7046029254386353131)
       )
      )
     )
    )
   )
  )
  (i32.wrap_i64
   (i64.shr_u
    (i64.mul
     (i64.xor
      (local.tee $3
       (i64.mul
        (i64.xor
         (local.tee $3
          (i64.xor
           (local.get $4)
           (i64.rotl
            (local.get $5)
            (i64.const 32)
           )
          )
         )
         (i64.shr_u
          (local.get $3)
          (i64.const 32)
         )
        )
        (i64.const -49064778989728563)
       )
      )
      (i64.shr_u
       (local.get $3)
       (i64.const 29)
      )
     )
     (i64.const -4265267296055464877)
    )
    (i64.const 32)
   )
  )
 )
 (func $map_find$wasm (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (result i32)
  (local $4 i32)
  (local.set $4
   (i32.atomic.load
    (i32.add
     (i32.load offset=40
      (local.get $0)
     )
     (i32.shl
      (i32.and
       (local.get $3)
       (i32.load offset=44
        (local.get $0)
       )
      )
      (i32.const 2)
     )
    )
   )
  )
  (loop $walk
   (if
    (i32.eqz
     (local.get $4)
    )
    (then
     (return
      (i32.const 0)
     )
    )
   )
   (if
    (i32.eq
     (i32.load offset=4
      (local.get $4)
     )
     (local.get $3)
    )
    (then
     (block $mismatch
      (local.set $0
       (i32.const 0)
      )
      (loop $cmp_words
       (if
        (i32.le_u
         (i32.add
          (local.get $0)
          (i32.const 4)
         )
         (local.get $2)
        )
        (then
         (br_if $mismatch
          (i32.ne
           (i32.load align=1
            (i32.add
             (local.get $0)
             (local.get $1)
            )
           )
           (i32.load align=1
            (i32.add
             (i32.add
              (local.get $4)
              (i32.const 24)
             )
             (local.get $0)
            )
           )
          )
         )
         (local.set $0
          (i32.add
           (local.get $0)
           (i32.const 4)
          )
         )
         (br $cmp_words)
        )
       )
      )
      (loop $cmp_bytes
       (if
        (i32.lt_u
         (local.get $0)
         (local.get $2)
        )
        (then
         (br_if $mismatch
          (i32.ne
           (i32.load8_u
            (i32.add
             (local.get $0)
             (local.get $1)
            )
           )
           (i32.load8_u
            (i32.add
             (i32.add
              (local.get $4)
              (i32.const 24)
             )
             (local.get $0)
            )
           )
          )
         )
         (local.set $0
          (i32.add
           (local.get $0)
           (i32.const 1)
          )
         )
         (br $cmp_bytes)
        )
       )
      )
      (return
       (local.get $4)
      )
     )
    )
   )
   (local.set $4
    (i32.load
     (local.get $4)
    )
   )
   (br $walk)
  )
 )
 (func $map_note_miss$wasm (param $0 i32) (param $1 i32) (param $2 i32)
  (if
   (i32.or
    (i32.and
     (local.get $1)
     (i32.const 7)
    )
    (i32.gt_u
     (local.get $1)
     (i32.const 64)
    )
   )
   (then
    (return)
   )
  )
  (global.set $map_miss_len$wasm
   (local.get $1)
  )
  (global.set $map_miss_hash$wasm
   (local.get $2)
  )
  (if
   (local.get $1)
   (then
    (global.set $map_miss_word$wasm0
     (i64.load align=1
      (local.get $0)
     )
    )
   )
  )
  (if
   (i32.gt_u
    (local.get $1)
    (i32.const 8)
   )
   (then
    (global.set $map_miss_word$wasm1
     (i64.load offset=8 align=1
      (local.get $0)
     )
    )
   )
  )
  (if
   (i32.gt_u
    (local.get $1)
    (i32.const 16)
   )
   (then
    (global.set $map_miss_word$wasm2
     (i64.load offset=16 align=1
      (local.get $0)
     )
    )
   )
  )
  (if
   (i32.gt_u
    (local.get $1)
    (i32.const 24)
   )
   (then
    (global.set $map_miss_word$wasm3
     (i64.load offset=24 align=1
      (local.get $0)
     )
    )
   )
  )
  (if
   (i32.gt_u
    (local.get $1)
    (i32.const 32)
   )
   (then
    (global.set $map_miss_word$wasm4
     (i64.load offset=32 align=1
      (local.get $0)
     )
    )
   )
  )
  (if
   (i32.gt_u
    (local.get $1)
    (i32.const 40)
   )
   (then
    (global.set $map_miss_word$wasm5
     (i64.load offset=40 align=1
      (local.get $0)
     )
    )
   )
  )
  (if
   (i32.gt_u
    (local.get $1)
    (i32.const 48)
   )
   (then
    (global.set $map_miss_word$wasm6
     (i64.load offset=48 align=1
      (local.get $0)
     )
    )
   )
  )
  (if
   (i32.gt_u
    (local.get $1)
    (i32.const 56)
   )
   (then
    (global.set $map_miss_word$wasm7
     (i64.load offset=56 align=1
      (local.get $0)
     )
    )
   )
  )
 )
 (func $map_lookup_elem$wasm (param $0 i32) (param $1 i32) (result i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (if
   (i32.ne
    (i32.atomic.load offset=4
     (local.get $0)
    )
    (i32.const 1146110285)
   )
   (then
    (return
     (call $helper32$map_lookup_elem
      (local.get $0)
      (local.get $1)
     )
    )
   )
  )
  (if
   (i32.eq
    (local.tee $2
     (i32.load offset=8
      (local.get $0)
     )
    )
    (i32.const 12)
   )
   (then
    (if
     (i32.ge_u
      (local.tee $3
       (i32.load align=1
        (local.get $1)
       )
      )
      (i32.load offset=20
       (local.get $0)
      )
     )
     (then
      (return
       (i32.const 0)
      )
     )
    )
    (if
     (i32.ne
      (i32.atomic.load
       (i32.add
        (i32.load offset=40
         (local.get $0)
        )
        (i32.mul
         (local.get $3)
         (i32.load offset=44
          (local.get $0)
         )
        )
       )
      )
      (i32.const 1)
     )
     (then
      (return
       (i32.const 0)
      )
     )
    )
    (return
     (i32.load offset=8
      (i32.add
       (i32.load offset=40
        (local.get $0)
       )
       (i32.mul
        (local.get $3)
        (i32.load offset=44
         (local.get $0)
        )
       )
      )
     )
    )
   )
  )
  (if
   (i32.eqz
    (i32.or
     (i32.or
      (i32.or
       (i32.eq
        (local.get $2)
        (i32.const 1)
       )
       (i32.eq
        (local.get $2)
        (i32.const 5)
       )
      )
      (i32.eq
       (local.get $2)
       (i32.const 9)
      )
     )
     (i32.eq
      (local.get $2)
      (i32.const 10)
     )
    )
   )
   (then
    (return
     (call $helper32$map_lookup_elem
      (local.get $0)
      (local.get $1)
     )
    )
   )
  )
  (local.set $3
   (call $map_hash$wasm
    (local.get $1)
    (local.tee $4
     (i32.load offset=12
      (local.get $0)
     )
    )
   )
  )
  (if
   (i32.eqz
    (local.tee $5
     (call $map_find$wasm
      (local.get $0)
      (local.get $1)
      (local.get $4)
      (local.get $3)
     )
    )
   )
   (then
    (call $map_note_miss$wasm
     (local.get $1)
     (local.get $4)
     (local.get $3)
    )
    (return
     (i32.const 0)
    )
   )
  )
  (if
   (i32.and
    (i32.eqz
     (i32.load8_u offset=16
      (local.get $5)
     )
    )
    (i32.or
     (i32.eq
      (local.get $2)
      (i32.const 9)
     )
     (i32.eq
      (local.get $2)
      (i32.const 10)
     )
    )
   )
   (then
    (i32.store8 offset=16
     (local.get $5)
     (i32.const 1)
    )
   )
  )
  (if (result i32)
   (i32.or
    (i32.eq
     (local.get $2)
     (i32.const 5)
    )
    (i32.eq
     (local.get $2)
     (i32.const 10)
    )
   )
   (then
    (if (result i32)
     (i32.ge_u
      (global.get $cpu)
      (i32.const 16)
     )
     (then
      (i32.const 0)
     )
     (else
      (i32.add
       (i32.add
        (local.get $5)
        (i32.add
         (i32.and
          (i32.add
           (local.get $4)
           (i32.const 7)
          )
          (i32.const -8)
         )
         (i32.const 24)
        )
       )
       (i32.mul
        (global.get $cpu)
        (i32.and
         (i32.add
          (select
           (i32.const 1)
           (i32.load offset=16
            (local.get $0)
           )
           (i32.le_u
            (i32.load offset=16
             (local.get $0)
            )
            (i32.const 1)
           )
          )
          (i32.const 7)
         )
         (i32.const -8)
        )
       )
      )
     )
    )
   )
   (else
    (i32.add
     (local.get $5)
     (i32.add
      (i32.and
       (i32.add
        (local.get $4)
        (i32.const 7)
       )
       (i32.const -8)
      )
      (i32.const 24)
     )
    )
   )
  )
 )
 (func $i32_helpers@0 (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (param $5 i64) (result i64)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (i64.store32 offset=508 align=1
   (i32.sub
    (i32.wrap_i64
     (local.get $5)
    )
    (i32.const 512)
   )
   (i64.const 7)
  )
  (if
   (i64.ne
    (i64.extend_i32_u
     (block $lookup$6 (result i32)
      (local.set $7
       (i32.wrap_i64
        (i64.sub
         (local.get $5)
         (i64.const 4)
        )
       )
      )
      (if
       (i32.or
        (i32.ne
         (i32.atomic.load offset=4
          (local.tee $6
           (i32.const 65536)
          )
         )
         (i32.const 1146110285)
        )
        (i32.or
         (i32.ne
          (i32.load offset=8
           (local.get $6)
          )
          (i32.const 1)
         )
         (i32.ne
          (i32.load offset=12
           (local.get $6)
          )
          (i32.const 4)
         )
        )
       )
       (then
        (br $lookup$6
         (call $map_lookup_elem$wasm
          (local.get $6)
          (local.get $7)
         )
        )
       )
      )
      (local.set $6
       (i32.atomic.load
        (i32.add
         (i32.load offset=40
          (local.get $6)
         )
         (i32.shl
          (i32.and
           (local.tee $8
            (i32.wrap_i64
             (i64.shr_u
              (i64.mul
               (i64.xor
                (local.tee $1
                 (i64.mul
                  (i64.xor
                   (local.tee $1
                    (i64.xor
                     (i64.mul
                      (i64.xor
                       (i64.load32_s align=1
                        (local.get $7)
                       )
                       (i64.const 2611923443488327895)
                      )
                      (i64.const -7046029254386353131)
                     )
                     (i64.const 247824698540919342)
                    )
                   )
                   (i64.shr_u
                    (local.get $1)
                    (i64.const 32)
                   )
                  )
                  (i64.const -49064778989728563)
                 )
                )
                (i64.shr_u
                 (local.get $1)
                 (i64.const 29)
                )
               )
               (i64.const -4265267296055464877)
              )
              (i64.const 32)
             )
            )
           )
           (i32.load offset=44
            (local.get $6)
           )
          )
          (i32.const 2)
         )
        )
       )
      )
      (loop $lookup$6$walk
       (block $lookup$6$found
        (drop
         (br_if $lookup$6
          (i32.const 0)
          (i32.eqz
           (local.get $6)
          )
         )
        )
        (br_if $lookup$6$found
         (i32.and
          (i64.eqz
           (i64.extend_i32_u
            (i32.xor
             (i32.load align=1
              (local.get $7)
             )
             (i32.load offset=24 align=1
              (local.get $6)
             )
            )
           )
          )
          (i32.eq
           (i32.load offset=4
            (local.get $6)
           )
           (local.get $8)
          )
         )
        )
        (local.set $6
         (i32.load
          (local.get $6)
         )
        )
        (br $lookup$6$walk)
       )
      )
      (i32.add
       (local.get $6)
       (i32.const 32)
      )
     )
    )
    (i64.const 0)
   )
   (then
    (block $block$3$break
     (br_if $block$3$break
      (i64.eqz
       (i64.extend_i32_s
        (block $adjust_head$10 (result i32)
         (local.set $0
          (i64.load32_s
           (local.tee $7
            (global.get $xdp_ctx)
           )
          )
         )
         (drop
          (br_if $adjust_head$10
           (i32.const -22)
           (i32.or
            (i64.gt_s
             (local.tee $2
              (i64.add
               (local.tee $1
                (i64.const -14)
               )
               (local.get $0)
              )
             )
             (i64.sub
              (i64.load32_s offset=4
               (local.get $7)
              )
              (i64.const 14)
             )
            )
            (i64.lt_s
             (local.get $2)
             (i64.add
              (local.tee $3
               (i64.sub
                (local.get $0)
                (local.tee $0
                 (i64.load32_s offset=8
                  (local.get $7)
                 )
                )
               )
              )
              (i64.add
               (i64.load32_s offset=24
                (local.get $7)
               )
               (i64.const 40)
              )
             )
            )
           )
          )
         )
         (if
          (i64.gt_s
           (local.get $3)
           (i64.const 0)
          )
          (then
           (memory.copy
            (i32.wrap_i64
             (i64.add
              (local.get $0)
              (local.get $1)
             )
            )
            (i32.wrap_i64
             (local.get $0)
            )
            (i32.wrap_i64
             (local.get $3)
            )
           )
          )
         )
         (i64.store32
          (local.get $7)
          (local.get $2)
         )
         (i64.store32 offset=8
          (local.get $7)
          (i64.add
           (local.get $0)
           (local.get $1)
          )
         )
         (i32.const 0)
        )
       )
      )
     )
     (return
      (i64.const 1)
     )
    )
   )
  )
  (i64.const 2)
 )
 (func $i32_helpers$entry (param $0 i32) (param $1 i32) (result i64)
  (call $i32_helpers@0
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
 (func $i32_helpers$entry32 (param $0 i32) (param $1 i32) (result i32)
  (i32.wrap_i64
   (call $i32_helpers$entry
    (local.get $0)
    (local.get $1)
   )
  )
 )
 (func $i32_helpers$batch (param $0 i32) (param $1 i32)
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
        (call $i32_helpers@0
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
  (global.set $cpu
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
 ;; custom section "bpf2wasm.manifest", size 733, contents: "{\"version\":7,\"source\":\"i32_helpers\",\"license\":\"GPL\",\"layout\":{\"nullPage\":65536,\"descBase\":65536,\"descSize\":64,\"descCount\":4096,\"maxCpus\":16,\"heapBase\":327680,\"initialPages\":21,\"maxPages\":65536},\"maps\":[{\"name\":\"flows\",\"type\":1,\"typeName\":\"hash\",\"keySize\":4,\"valueSize\":8,\"maxEntries\":64,\"flags\":0,\"section\":\".maps\",\"placement\":{\"handle\":65536}}],\"programs\":[{\"name\":\"i32_helpers\",\"section\":\"xdp\",\"export\":\"i32_helpers\",\"insnCount\":15,\"helpers\":[1,44],\"tableIndex\":0,\"code\":\"vxYAAAAAAABiCvz/BwAAAL+iAAAAAAAABwIAAPz///8YUQAAAAAAAAAAAAAAAAAAhQAAAAEAAAAVAAQAAAAAAL9hAAAAAAAAtwIAAPL///+FAAAALAAAAFUAAgAAAAAAtwAAAAIAAACVAAAAAAAAALcAAAABAAAAlQAAAAAAAAA=\",\"funcs\":[{\"name\":\"i32_helpers\",\"start\":0}],\"budgetedBackEdges\":[]}],\"helpers\":[1,44]}"
)
