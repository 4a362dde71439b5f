// Linux calls Swift's Glibc module leaves out.
#include <sys/vfs.h>
