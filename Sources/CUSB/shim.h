// libusb 1.0 (Debian libusb-1.0-0-dev), wrapped privately by ClosetUSBHID.
#include <libusb.h>
