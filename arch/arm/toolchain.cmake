# Guest toolchain for 32-bit ARM (EABI, hard float): the Debian cross gcc.
# Its default instruction set is Thumb-2; arch.cmake adds -marm, because the
# Go object code the trampolines reproduce is ARM (A32) code.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_ASM_COMPILER arm-linux-gnueabihf-gcc)
# The guest has no libc: a try-compile must not try to link against one.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
