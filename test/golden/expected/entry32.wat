(module
 (type $0 (func (param i64 i64 i64 i64 i64 i64) (result i64)))
 (type $1 (func (param i32 i32) (result i64)))
 (type $2 (func (param i32 i32) (result i32)))
 (type $3 (func (param i32 i32 i32)))
 (global $budget_limit (mut i32) (i32.const 2147483647))
 (global $stack_top (mut i64) (i64.const 0))
 (export "entry32" (func $entry32$entry))
 (export "entry32$r0_32" (func $entry32$entry32))
 (export "bpf2wasm_init" (func $bpf2wasm_init))
 (func $entry32@0 (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (param $5 i64) (result i64)
  (i64.const 2)
 )
 (func $entry32$entry (param $0 i32) (param $1 i32) (result i64)
  (drop
   (global.get $budget_limit)
  )
  (call $entry32@0
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
 (func $entry32$entry32 (param $0 i32) (param $1 i32) (result i32)
  (i32.wrap_i64
   (call $entry32$entry
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
 ;; custom section "bpf2wasm.manifest", size 395, contents: "{\"version\":2,\"source\":\"entry32\",\"license\":\"GPL\",\"layout\":{\"nullPage\":65536,\"descBase\":65536,\"descSize\":64,\"descCount\":4096,\"maxCpus\":16,\"heapBase\":327680,\"initialPages\":21,\"maxPages\":65536},\"maps\":[],\"programs\":[{\"name\":\"entry32\",\"section\":\"xdp\",\"export\":\"entry32\",\"insnCount\":2,\"helpers\":[],\"tableIndex\":0,\"code\":\"twAAAAIAAACVAAAAAAAAAA==\",\"funcs\":[{\"name\":\"entry32\",\"start\":0}]}],\"helpers\":[]}"
)
