#!/bin/sh
# numaexp guest /init: mount the kernel's file systems, then run /run/setup.sh
# (written per run by numaexp.kernel.setup) and power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "@@numaexp-guest-up $(cut -d' ' -f1 /proc/uptime) $(uname -r)"
if [ -x /run/setup.sh ]; then
    /bin/sh /run/setup.sh
else
    echo "@@numaexp-fail no /run/setup.sh"
fi
echo "@@numaexp-poweroff"
poweroff -f
