// Linux calls Swift's Glibc module leaves out.
#include <sys/vfs.h>
#include <malloc.h>
#include <sys/mman.h>
