package store

import (
	"encoding/binary"
	"fmt"
	"io"
)

// A file written with NoFreelistSync has no freelist page: bbolt rebuilds
// the freelist at open by walking every page the trees reach, in a
// goroutine of its own, where a damaged page (a wrong page id, unknown
// flags) fails an assertion — a panic that no recover of ours can catch,
// killing the process. So checkImage walks the same pages first, reading
// the file, and refuses a damaged one with ErrCorrupt; bbolt's walk then
// meets only pages that passed. Layout (go.etcd.io/bbolt/internal/common):
// a page header is id u64, flags u16, count u16, overflow u32; a branch
// element is pos u32, ksize u32, child page u64; a leaf element is flags
// u32 (1: a nested bucket), pos u32, ksize u32, vsize u32, pos counted from
// the element; a nested bucket's value is its root page u64 and sequence
// u64, and for an inline bucket (root 0) its page follows in the value.
const (
	boltBranchPage = 0x01
	boltLeafPage   = 0x02
	boltBucketLeaf = 0x01
	boltElement    = 16
)

// pageVisit is called for each page the trees reach: its id, how many
// pages it spans, and the bucket path it belongs to (nil: the root).
type pageVisit func(id uint64, span int, path [][]byte)

// walkPages walks every page reachable from the root bucket of m in the
// image r, validating what bbolt's own walk asserts, and returns an error
// wrapping ErrCorrupt at the first damaged page.
func walkPages(r io.ReaderAt, m boltMeta, visit pageVisit) error {
	w := pageWalker{r: r, m: m, visit: visit, seen: make(map[uint64]bool)}
	if err := w.tree(m.root, nil, 0); err != nil {
		return fmt.Errorf("%w: %w", err, ErrCorrupt)
	}
	return nil
}

// readAll reads the first size bytes of r in large runs and drops them:
// the walk that follows, and bbolt's, then read the page cache instead of
// the card one page at a time (the file is read without read-ahead, so
// these runs still cache it page by page: pagecache.go). An error is left
// for the walk to meet.
func readAll(r io.ReaderAt, size int64) {
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		if _, err := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off); err != nil {
			return
		}
	}
}

type pageWalker struct {
	r     io.ReaderAt
	m     boltMeta
	visit pageVisit
	seen  map[uint64]bool
}

// maxDepth bounds the recursion on a damaged file whose pages loop.
const maxDepth = 64

func (w *pageWalker) tree(id uint64, path [][]byte, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("page %d: tree deeper than %d", id, maxDepth)
	}
	if id < 2 || id >= w.m.pgid {
		return fmt.Errorf("page %d out of the file's %d pages", id, w.m.pgid)
	}
	if w.seen[id] {
		return fmt.Errorf("page %d reached twice", id)
	}
	w.seen[id] = true
	size := int64(w.m.pageSize)
	head := make([]byte, boltPageHeader)
	if _, err := w.r.ReadAt(head, int64(id)*size); err != nil {
		return fmt.Errorf("page %d: %w", id, err)
	}
	ord := binary.NativeEndian
	if got := ord.Uint64(head); got != id {
		return fmt.Errorf("page %d has the id %d", id, got)
	}
	overflow := uint64(ord.Uint32(head[12:]))
	if id+overflow >= w.m.pgid {
		return fmt.Errorf("page %d spans %d pages past the file's %d", id, overflow+1, w.m.pgid)
	}
	p := make([]byte, int64(overflow+1)*size)
	if _, err := w.r.ReadAt(p, int64(id)*size); err != nil {
		return fmt.Errorf("page %d: %w", id, err)
	}
	if w.visit != nil {
		w.visit(id, int(overflow+1), path)
	}
	return w.node(id, p, path, depth)
}

// node checks the page p (header included) and walks what it points to.
func (w *pageWalker) node(id uint64, p []byte, path [][]byte, depth int) error {
	ord := binary.NativeEndian
	flags, count := ord.Uint16(p[8:]), int(ord.Uint16(p[10:]))
	if boltPageHeader+count*boltElement > len(p) {
		return fmt.Errorf("page %d: %d elements past its end", id, count)
	}
	for i := range count {
		at := boltPageHeader + i*boltElement
		e := p[at : at+boltElement]
		switch flags {
		case boltBranchPage:
			pos, ksize := int(ord.Uint32(e)), int(ord.Uint32(e[4:]))
			if at+pos+ksize > len(p) || at+pos < 0 {
				return fmt.Errorf("page %d: element %d past the page", id, i)
			}
			if err := w.tree(ord.Uint64(e[8:]), path, depth+1); err != nil {
				return err
			}
		case boltLeafPage:
			eflags, pos, ksize, vsize := ord.Uint32(e), int(ord.Uint32(e[4:])), int(ord.Uint32(e[8:])), int(ord.Uint32(e[12:]))
			start := at + pos
			if pos < 0 || ksize < 0 || vsize < 0 || start+ksize+vsize > len(p) {
				return fmt.Errorf("page %d: element %d past the page", id, i)
			}
			if eflags&boltBucketLeaf == 0 {
				continue
			}
			key, val := p[start:start+ksize], p[start+ksize:start+ksize+vsize]
			if len(val) < 16 {
				return fmt.Errorf("page %d: bucket %q with a %d-byte header", id, key, len(val))
			}
			sub := append(path[:len(path):len(path)], key)
			if root := ord.Uint64(val); root != 0 {
				if err := w.tree(root, sub, depth+1); err != nil {
					return err
				}
				continue
			}
			inline := val[16:]
			if len(inline) < boltPageHeader {
				return fmt.Errorf("page %d: inline bucket %q cut short", id, key)
			}
			if err := w.node(id, inline, sub, depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("page %d: flags %#x, not a branch nor a leaf", id, flags)
		}
	}
	if count == 0 && flags != boltBranchPage && flags != boltLeafPage {
		return fmt.Errorf("page %d: flags %#x, not a branch nor a leaf", id, flags)
	}
	return nil
}
