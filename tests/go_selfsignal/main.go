// A Go program that signals itself and waits for the signal through
// os/signal: under `sigstep go --exec` it exits 0 only if the emulated
// kernel delivers kill(2)'s signal to a thread of the process, the
// runtime's own handler takes it (sigsend) and wakes the goroutine that
// waits (a futex wake across threads).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		fmt.Println("kill:", err)
		os.Exit(2)
	}
	fmt.Println("got", <-c)
}
