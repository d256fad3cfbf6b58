{
  "targets": [
    {
      "target_name": "bpf2wasm_native",
      "sources": [
        "src/addon.cc",
        "src/xsk_socket.cc",
        "src/prefilter.cc",
        "src/packet_socket.cc",
        "src/tap_device.cc",
        "src/test_run.cc",
        "src/kernel_object.cc",
        "src/kernel_map.cc",
        "src/route_netlink.cc",
        "src/perf_buffer.cc",
        "src/util.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lxdp", "-lbpf"]
    }
  ]
}
