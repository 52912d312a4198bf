# Guest toolchain for amd64: the host gcc, used freestanding.
# Setting CMAKE_SYSTEM_NAME makes CMake treat this as a cross build even on
# an amd64 host; that is intended, the guest never links the host's libc.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_ASM_COMPILER gcc)
# try_compile must not link: there is no libc (nor crt files) in the guest.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
