// wait.go - blocking on a libovl descriptor from a goroutine: poll(2) on
// it and on a pipe that a cancelled context.Context or a Close writes to,
// and the guard that makes Close wait for the goroutines inside.
package ovl

/*
#include <errno.h>
#include <poll.h>

// 1 when fd is readable, 2 when wake_fd is (checked first), -errno.
static int wait_readable(int fd, int wake_fd)
{
	struct pollfd fds[2] = { { wake_fd, POLLIN, 0 }, { fd, POLLIN, 0 } };

	for (;;) {
		if (poll(fds, 2, -1) >= 0)
			break;
		if (errno != EINTR)
			return -errno;
	}
	if (fds[0].revents)
		return 2;
	return 1;
}
*/
import "C"

import (
	"context"
	"sync"
	"syscall"
)

// waker is a pipe: wake makes its read end readable for good.
type waker struct {
	read, write int
}

func newWaker() (*waker, error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, err
	}
	return &waker{read: fds[0], write: fds[1]}, nil
}

func (w *waker) wake() {
	syscall.Write(w.write, []byte{1}) //nolint: a full pipe is awake already
}

func (w *waker) close() {
	syscall.Close(w.read)
	syscall.Close(w.write)
}

// wakeOnDone wakes w when ctx is done; the returned function ends the
// watching goroutine and returns once it cannot touch w any more.
func wakeOnDone(ctx context.Context, w *waker) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			w.wake()
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

// waitReadable blocks until fd is readable (true) or w is woken (false).
func waitReadable(op string, fd int, w *waker) (bool, error) {
	switch r := C.wait_readable(C.int(fd), C.int(w.read)); {
	case r < 0:
		return false, newError(op, r, "")
	case r == 2:
		return false, nil
	}
	return true, nil
}

// loopGuard lets goroutines block on a handle's descriptor while Close
// waits for them: shut wakes every one inside and waits until they left.
type loopGuard struct {
	mu      sync.Mutex
	closing bool
	inside  map[*waker]struct{}
	left    sync.WaitGroup
}

// enter registers a blocking call; EBADF once the handle is closing.
func (g *loopGuard) enter(op string) (*waker, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return nil, errorOf(op, syscall.EBADF)
	}
	w, err := newWaker()
	if err != nil {
		return nil, &Error{Op: op, Errno: err.(syscall.Errno), Message: "pipe: " + err.Error()}
	}
	if g.inside == nil {
		g.inside = make(map[*waker]struct{})
	}
	g.inside[w] = struct{}{}
	g.left.Add(1)
	return w, nil
}

func (g *loopGuard) leave(w *waker) {
	g.mu.Lock()
	delete(g.inside, w)
	g.mu.Unlock()
	w.close()
	g.left.Done()
}

// block runs fn, which may block on w, as one entry: ctx being done or the
// handle closing wakes w.
func (g *loopGuard) block(ctx context.Context, op string, fn func(w *waker) error) error {
	w, err := g.enter(op)
	if err != nil {
		return err
	}
	defer g.leave(w)
	defer wakeOnDone(ctx, w)()
	return fn(w)
}

// shut refuses new entries, wakes the ones inside and waits for them.
func (g *loopGuard) shut() {
	g.mu.Lock()
	g.closing = true
	for w := range g.inside {
		w.wake()
	}
	g.mu.Unlock()
	g.left.Wait()
}
