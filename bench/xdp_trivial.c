// The baseline of kernel timings: BPF_PROG_TEST_RUN's fixed cost, measured on a program
// that does nothing, is subtracted from every kernel duration in xdp-bench.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int xdp_trivial(struct xdp_md *ctx) { return XDP_PASS; }
char _license[] SEC("license") = "GPL";
