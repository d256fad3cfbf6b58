// The smallest XDP program: let every frame through to the network stack.
// Useful as a baseline (the cost of running a program at all) and as a loader smoke test.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
