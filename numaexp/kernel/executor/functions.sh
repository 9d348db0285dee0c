# numaexp guest shell functions, put at the top of each run's /run/setup.sh
fail() { echo "@@numaexp-fail $*"; echo "@@numaexp-poweroff"; poweroff -f; sleep 10; }
# setw FIELD FILE VALUE DEFAULT: write VALUE, or fail naming FIELD with the kernel's error;
# a file this kernel lacks is skipped when VALUE is the default.
setw() {
    if [ ! -e "$2" ]; then
        [ "$3" = "$4" ] && { echo "@@skip $1 $2"; return 0; }
        fail "$1: this kernel has no $2"
    fi
    msg=$( { echo "$3" > "$2"; } 2>&1 ) || fail "$1: writing $3 to $2: ${msg##*: }"
    echo "@@set $1 $2 $3"
}
kmem() {
    for m in $1; do
        msg=$(insmod /run/modules/$m.ko 2>&1) || fail "kmem: insmod $m: $msg"
    done
    for r in /sys/bus/nd/devices/region*; do
        [ -e "$r" ] || fail "kmem: no nvdimm region (memmap= legacy pmem not found)"
        ns=$(basename "$r" | sed 's/region/namespace/').0
        [ -e /sys/bus/nd/drivers/nd_pmem/$ns ] && echo $ns > /sys/bus/nd/drivers/nd_pmem/unbind
        seed=$(cat $r/dax_seed)
        echo pmem > /sys/bus/nd/devices/$seed/mode || fail "kmem: $seed mode"
        cat /proc/sys/kernel/random/uuid > /sys/bus/nd/devices/$seed/uuid || fail "kmem: uuid"
        echo $ns > /sys/bus/nd/devices/$seed/namespace || fail "kmem: $seed namespace"
        echo $seed > /sys/bus/nd/drivers/dax_pmem/bind || fail "kmem: bind $seed to dax_pmem"
    done
    for d in /sys/bus/dax/devices/dax*; do
        [ -e "$d" ] || fail "kmem: no dax device"
        dax=$(basename $d)
        [ -e /sys/bus/dax/drivers/device_dax/$dax ] && echo $dax > /sys/bus/dax/drivers/device_dax/unbind
        echo $dax > /sys/bus/dax/drivers/kmem/new_id 2>/dev/null
        [ -e /sys/bus/dax/drivers/kmem/$dax ] || echo $dax > /sys/bus/dax/drivers/kmem/bind \
            || fail "kmem: bind $dax to kmem"
    done
    for b in /sys/devices/system/memory/memory*; do
        [ "$(cat $b/state)" = offline ] && { echo online_movable > $b/state || fail "kmem: online $b"; }
    done
    echo "@@kmem done"
}
topology() {
    for n in /sys/devices/system/node/node*; do
        echo "@@topo node $(basename $n | sed 's/node//') cpus=$(cat $n/cpulist)" \
             "memtotal_kb=$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' $n/meminfo)" \
             "distance=$(cat $n/distance | tr ' ' ',')"
    done
    echo "@@topo has_cpu $(cat /sys/devices/system/node/has_cpu)"
    echo "@@topo has_memory $(cat /sys/devices/system/node/has_memory)"
    for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
        [ -e "$t/nodelist" ] && echo "@@topo tier $(basename $t | sed 's/memory_tier//') $(cat $t/nodelist)"
    done
    echo "@@topo cpus $(nproc)"
}
# cgroup_mode: kernel.numa_balancing 4 (CGROUP) is the RFC's. A stock kernel's sysctl
# takes 0..4 (extra2 = 4 since 5.18) but has no per-cgroup control: fail with its error.
cgroup_mode() {
    p=/sys/fs/cgroup/numaexp-probe
    mkdir -p $p
    msg=$( { echo 1 > $p/cpu.numa_load_balance; } 2>&1 ) || { rmdir $p; fail \
        "kernel.numa_balancing: 4 (CGROUP) needs the per-cgroup RFC; this kernel took 4 in" \
        "its sysctl (range 0..4) but has no cpu.numa_load_balance: writing 1 to" \
        "$p/cpu.numa_load_balance: ${msg##*: }"; }
    rmdir $p
}
