# lib-ping-gap.sh - sourced by tests/netns/test-wireguard-live.sh and
# bench/wireguard.sh: how long traffic stopped, from the output of
# `ping -D -i 0.01` (each reply stamped with its arrival).
#
# ping_gap_ms FILE: the longest run of pings without a reply times 10 ms,
# or, when WireGuard held the packets until its handshake and delivered
# them late, the longest silence between two replies less the 10 ms they
# are apart; whichever is longer.
ping_gap_ms() {
	awk '/icmp_seq=/ { at = substr($1, 2) + 0; seq = $0; sub(/.*icmp_seq=/, "", seq)
			   got[seq + 0] = 1; if (last && (at - last) * 1000 - 10 > silent) silent = (at - last) * 1000 - 10
			   last = at }
	     / packets transmitted/ { sent = $1 }
	     END { for (i = 1; i <= sent; i++) { run = got[i] ? 0 : run + 1; if (run > worst) worst = run }
		   lost = worst * 10; printf "%d\n", (lost > silent ? lost : silent) }' "$1"
}
