package local

import (
	"os"
	"syscall"
)

// fileChange returns a file's inode and status change time, which every
// write, rename and copy moves and no user tool can set back.
func fileChange(info os.FileInfo) (inode uint64, changeNanos int64, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Ino, st.Ctim.Nano(), true
}
