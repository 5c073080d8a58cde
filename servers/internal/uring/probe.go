package uring

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// Op is an io_uring opcode (IORING_OP_).
type Op uint8

// The operations a server loop uses.
const (
	OpNop         Op = 0
	OpWritev      Op = 2
	OpPollAdd     Op = 6
	OpSendmsg     Op = 9
	OpTimeout     Op = 11
	OpAccept      Op = 13
	OpAsyncCancel Op = 14
	OpLinkTimeout Op = 15
	OpClose       Op = 19
	OpStatx       Op = 21
	OpRead        Op = 22
	OpSend        Op = 26
	OpRecv        Op = 27
	OpSplice      Op = 30
	OpSendZC      Op = 47
	OpSendmsgZC   Op = 48
)

// opNames are the kernel's names of the operations above.
var opNames = map[Op]string{
	OpNop:         "IORING_OP_NOP",
	OpWritev:      "IORING_OP_WRITEV",
	OpPollAdd:     "IORING_OP_POLL_ADD",
	OpSendmsg:     "IORING_OP_SENDMSG",
	OpTimeout:     "IORING_OP_TIMEOUT",
	OpAccept:      "IORING_OP_ACCEPT",
	OpAsyncCancel: "IORING_OP_ASYNC_CANCEL",
	OpLinkTimeout: "IORING_OP_LINK_TIMEOUT",
	OpClose:       "IORING_OP_CLOSE",
	OpStatx:       "IORING_OP_STATX",
	OpRead:        "IORING_OP_READ",
	OpSend:        "IORING_OP_SEND",
	OpRecv:        "IORING_OP_RECV",
	OpSplice:      "IORING_OP_SPLICE",
	OpSendZC:      "IORING_OP_SEND_ZC",
	OpSendmsgZC:   "IORING_OP_SENDMSG_ZC",
}

// String returns the kernel's name of the operation, so that an error
// names what a reader can look up.
func (o Op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return "IORING_OP_" + strconv.Itoa(int(o))
}

// probe asks the kernel which operations it supports (Linux 5.6).
func (r *Ring) probe() error {
	p := new(probe)
	if e := sysRegister(r.fd, registerProbe, unsafe.Pointer(p), probeOps); e != 0 {
		return fmt.Errorf("uring: probe the operations: %w", os.NewSyscallError("io_uring_register", e))
	}
	for _, op := range p.ops[:p.opsLen] {
		if op.flags&probeOpSupported != 0 {
			r.ops[op.op/64] |= 1 << (op.op % 64)
		}
	}
	return nil
}

// Supports reports whether the kernel supports op, from the probe New
// made.
func (r *Ring) Supports(op Op) bool {
	return r.ops[op/64]&(1<<(op%64)) != 0
}

// Require returns nil if the kernel supports every op, and otherwise one
// line naming those it lacks, so that a server refuses to start in one
// clear sentence instead of failing at its first connection.
func (r *Ring) Require(ops ...Op) error {
	var missing []string
	for _, op := range ops {
		if !r.Supports(op) {
			missing = append(missing, op.String())
		}
	}
	if missing != nil {
		return fmt.Errorf("uring: the kernel lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// ServerOps returns the operations this package prepares, all of which an
// io_uring server loop may use: Require(ServerOps()...) at its start.
func ServerOps() []Op {
	return []Op{
		OpNop, OpAccept, OpRecv, OpSend, OpSendmsg, OpWritev, OpSendZC, OpSendmsgZC, OpSplice,
		OpRead, OpStatx, OpClose, OpTimeout, OpLinkTimeout, OpAsyncCancel, OpPollAdd,
	}
}
