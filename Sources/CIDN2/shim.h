#ifndef DNSPROP_CIDN2_SHIM_H
#define DNSPROP_CIDN2_SHIM_H
#include <idn2.h>
#endif
