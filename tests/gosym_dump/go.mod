module sigstep.example/gosymdump

go 1.19
