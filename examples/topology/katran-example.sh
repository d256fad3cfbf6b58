#!/usr/bin/env bash
# katran's example topology (its EXAMPLE walkthrough) in network namespaces, for the live
# datapath: one L2 segment (a bridge in its own namespace) joining
#   client  10.0.0.1   fc00::1    routes the VIPs through the load balancer
#   lb      10.0.0.10  fc00::10   where `bpf2wasm run` serves eth0
#   real    10.0.0.2   fc00::2    VIPs 10.200.200.1/32 and fc00:200::1/128 on lo, HTTP on :80
# This kernel may lack the ipip/ip6tnl modules, so the real decapsulates IPIP, IPv4-in-IPv6
# and IPv6-in-IPv6 with our own XDP program (examples/xdp_decap.bpf.c) in its kernel.
# Every name starts with PREFIX, so parallel runs do not collide; `down` removes it all.
#
# usage: katran-example.sh up PREFIX [DECAP_OBJECT]   (prints the facts as KEY=VALUE)
#        katran-example.sh down PREFIX
set -euo pipefail

cmd=${1:-}
prefix=${2:-}
if [[ ! $cmd =~ ^(up|down)$ || ! $prefix =~ ^[a-z0-9]{1,12}$ ]]; then
  echo "usage: $0 up|down PREFIX (PREFIX: 1-12 of a-z0-9) [DECAP_OBJECT]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
decap=${3:-$root/build/examples/xdp_decap.o}
client=$prefix-client lb=$prefix-lb real=$prefix-real switch=$prefix-sw
pins=/sys/fs/bpf/$prefix
state=/run/bpf2wasm-$prefix

down() {
  if [[ -f $state/http.pid ]]; then kill "$(cat "$state/http.pid")" 2>/dev/null || true; fi
  for ns in "$client" "$lb" "$real" "$switch"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$pins" "$state" "/run/bpf2wasm/$lb"
}

if [[ $cmd == down ]]; then
  down
  exit 0
fi

trap 'echo "topology: set-up failed at line $LINENO; removing what was made" >&2; down' ERR
[[ -f $decap ]] || { echo "topology: $decap not found (npm run build compiles it)" >&2; exit 1; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$state" "$pins"

for ns in "$client" "$lb" "$real" "$switch"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
for host in client lb real; do
  ip link add eth0 netns "$prefix-$host" type veth peer name "$host" netns "$switch"
  ip -n "$switch" link set "$host" master br0 mtu 1600 up
done
# Encapsulation adds 20 or 40 bytes: the segment between balancer and real carries them.
ip -n "$client" link set eth0 up
ip -n "$lb" link set eth0 mtu 1600 up
ip -n "$real" link set eth0 mtu 1600 up
# veth hands frames over with checksums left for "hardware" to finish (CHECKSUM_PARTIAL).
# A userspace datapath forwards raw bytes, so the senders must compute them in software.
for ns in "$client" "$lb" "$real"; do ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null; done
# IPv6 addresses are usable at once (no duplicate address detection delay).
for ns in "$client" "$lb" "$real"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0; done
ip -n "$client" addr add 10.0.0.1/24 dev eth0
ip -n "$client" addr add fc00::1/64 dev eth0 nodad
ip -n "$lb" addr add 10.0.0.10/24 dev eth0
ip -n "$lb" addr add fc00::10/64 dev eth0 nodad
ip -n "$real" addr add 10.0.0.2/24 dev eth0
ip -n "$real" addr add fc00::2/64 dev eth0 nodad
ip -n "$real" addr add 10.200.200.1/32 dev lo
ip -n "$real" addr add fc00:200::1/128 dev lo
ip -n "$client" route add 10.200.200.1/32 via 10.0.0.10
ip -n "$client" route add fc00:200::1/128 via fc00::10
# Decapsulated packets arrive on eth0 from sources routed elsewhere only in odd set-ups;
# loose reverse-path filtering keeps the real from dropping them then.
ip netns exec "$real" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0

# The real's decapsulator, pinned outside the namespaces (ip netns exec remounts /sys),
# attached from inside the real's network namespace only.
bpftool prog load "$decap" "$pins/decap" type xdp pinmaps "$pins/maps"
bpftool map update pinned "$pins/maps/decap_dst_v4" key 10 0 0 2 value 1 0 0 0
bpftool map update pinned "$pins/maps/decap_dst_v6" key 0xfc 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 value 1 0 0 0
nsenter --net="/run/netns/$real" bpftool net attach xdpgeneric pinned "$pins/decap" dev eth0

# The real's web server: its page names the real, so a client can tell who answered.
mkdir -p "$state/www"
echo "hello from the real server 10.0.0.2 ($prefix)" > "$state/www/index.html"
ip netns exec "$real" python3 -m http.server 80 --bind :: --directory "$state/www" >"$state/http.log" 2>&1 &
echo $! > "$state/http.pid"
for _ in $(seq 50); do
  ip netns exec "$real" bash -c 'exec 3<>/dev/tcp/10.200.200.1/80' 2>/dev/null && break
  sleep 0.1
done

trap - ERR
echo "CLIENT_NS=$client"
echo "LB_NS=$lb"
echo "REAL_NS=$real"
echo "LB_IFACE=eth0"
echo "REAL_IFACE=eth0"
echo "REAL_MAC=$(ip netns exec "$real" cat /sys/class/net/eth0/address)"
echo "LB_MAC=$(ip netns exec "$lb" cat /sys/class/net/eth0/address)"
echo "VIP=10.200.200.1"
echo "VIP6=fc00:200::1"
echo "REAL=10.0.0.2"
echo "REAL6=fc00::2"
echo "PAGE=$state/www/index.html"
