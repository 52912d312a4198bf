module sigstep.example/selfsignal

go 1.19
