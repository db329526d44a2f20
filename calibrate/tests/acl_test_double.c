/*
 * Test double for libascendcl.so: exports the AscendCL symbols flexsim-calibrate binds, with
 * the C signatures of calibration.md §4.3, returning known values. It also checks the call
 * protocol: queries before aclInit fail, aclrtGetMemInfo needs aclrtSetDevice first, and the
 * utilisation extension pointer must be NULL.
 *
 * Built by build.rs twice; with -DFLEXSIM_DOUBLE_OLD_RELEASE it lacks the newer functions
 * (aclrtGetDeviceInfo, aclrtGetDeviceUtilizationRate, aclsysGetVersionStr/Num), like an older
 * CANN release.
 *
 * Known values: 2 devices, SoC "Ascend910B3", 20 AI cores, 64 GiB HBM, not virtual,
 * CANN "8.0.RC3", cube 37 %, vector 21 %.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef int aclError;
#define ACL_SUCCESS 0
#define ACL_ERROR_INVALID_PARAM 100000
#define ACL_ERROR_UNINITIALIZE 100001
#define ACL_ERROR_REPEAT_INITIALIZE 100002

static int initialised = 0;
/* Per thread, like ACL's current context. */
static __thread int current_device = -1;
static const char *last_error = "";

#define DEVICES 2u
#define HBM_BYTES (64ull * 1024 * 1024 * 1024)

aclError aclInit(const char *configPath) {
    (void)configPath;
    if (initialised) return ACL_ERROR_REPEAT_INITIALIZE;
    initialised = 1;
    return ACL_SUCCESS;
}

aclError aclFinalize(void) {
    initialised = 0;
    return ACL_SUCCESS;
}

const char *aclGetRecentErrMsg(void) { return last_error; }

static aclError fail(aclError code, const char *why) {
    last_error = why;
    return code;
}

aclError aclrtGetDeviceCount(uint32_t *count) {
    if (!initialised) return fail(ACL_ERROR_UNINITIALIZE, "aclInit not called");
    *count = DEVICES;
    return ACL_SUCCESS;
}

aclError aclrtSetDevice(int32_t deviceId) {
    if (!initialised) return fail(ACL_ERROR_UNINITIALIZE, "aclInit not called");
    if (deviceId < 0 || (uint32_t)deviceId >= DEVICES) return fail(ACL_ERROR_INVALID_PARAM, "bad device");
    current_device = deviceId;
    return ACL_SUCCESS;
}

aclError aclrtResetDevice(int32_t deviceId) {
    if (deviceId != current_device) return fail(ACL_ERROR_INVALID_PARAM, "device not set");
    current_device = -1;
    return ACL_SUCCESS;
}

aclError aclrtGetDevice(int32_t *deviceId) {
    if (current_device < 0) return fail(ACL_ERROR_INVALID_PARAM, "no current device");
    *deviceId = current_device;
    return ACL_SUCCESS;
}

typedef enum { ACL_DDR_MEM = 0, ACL_HBM_MEM = 1 } aclrtMemAttr;

aclError aclrtGetMemInfo(aclrtMemAttr attr, size_t *free_bytes, size_t *total_bytes) {
    if (current_device < 0) return fail(ACL_ERROR_INVALID_PARAM, "aclrtSetDevice not called");
    if (attr != ACL_HBM_MEM) return fail(ACL_ERROR_INVALID_PARAM, "only HBM in the double");
    *total_bytes = (size_t)HBM_BYTES;
    *free_bytes = (size_t)(HBM_BYTES / 2);
    return ACL_SUCCESS;
}

const char *aclrtGetSocName(void) { return initialised ? "Ascend910B3" : NULL; }

#ifndef FLEXSIM_DOUBLE_OLD_RELEASE

typedef struct aclrtUtilizationExtendInfo aclrtUtilizationExtendInfo;
typedef struct aclrtUtilizationInfo {
    int32_t cubeUtilization;
    int32_t vectorUtilization;
    int32_t aicpuUtilization;
    int32_t memoryUtilization;
    aclrtUtilizationExtendInfo *utilizationExtend;
} aclrtUtilizationInfo;

aclError aclrtGetDeviceUtilizationRate(int32_t deviceId, aclrtUtilizationInfo *info) {
    if (!initialised) return fail(ACL_ERROR_UNINITIALIZE, "aclInit not called");
    if (deviceId < 0 || (uint32_t)deviceId >= DEVICES) return fail(ACL_ERROR_INVALID_PARAM, "bad device");
    if (info->utilizationExtend != NULL) return fail(ACL_ERROR_INVALID_PARAM, "extend must be NULL");
    info->cubeUtilization = 37;
    info->vectorUtilization = 21;
    info->aicpuUtilization = 3;
    info->memoryUtilization = 50;
    return ACL_SUCCESS;
}

typedef enum {
    ACL_DEV_ATTR_AICPU_CORE_NUM = 1,
    ACL_DEV_ATTR_AICORE_CORE_NUM = 101,
    ACL_DEV_ATTR_CUBE_CORE_NUM = 102,
    ACL_DEV_ATTR_VECTOR_CORE_NUM = 201,
    ACL_DEV_ATTR_TOTAL_GLOBAL_MEM_SIZE = 301,
    ACL_DEV_ATTR_L2_CACHE_SIZE = 302,
    ACL_DEV_ATTR_IS_VIRTUAL = 501
} aclrtDevAttr;

aclError aclrtGetDeviceInfo(uint32_t deviceId, aclrtDevAttr attr, int64_t *value) {
    if (!initialised) return fail(ACL_ERROR_UNINITIALIZE, "aclInit not called");
    if (deviceId >= DEVICES) return fail(ACL_ERROR_INVALID_PARAM, "bad device");
    switch (attr) {
    case ACL_DEV_ATTR_AICPU_CORE_NUM: *value = 6; return ACL_SUCCESS;
    case ACL_DEV_ATTR_AICORE_CORE_NUM: *value = 20; return ACL_SUCCESS;
    case ACL_DEV_ATTR_CUBE_CORE_NUM: *value = 20; return ACL_SUCCESS;
    case ACL_DEV_ATTR_VECTOR_CORE_NUM: *value = 40; return ACL_SUCCESS;
    case ACL_DEV_ATTR_TOTAL_GLOBAL_MEM_SIZE: *value = (int64_t)HBM_BYTES; return ACL_SUCCESS;
    case ACL_DEV_ATTR_IS_VIRTUAL: *value = 0; return ACL_SUCCESS;
    default: return fail(ACL_ERROR_INVALID_PARAM, "unknown attribute");
    }
}

aclError aclsysGetVersionStr(char *pkgName, char *versionStr) {
    if (strcmp(pkgName, "CANN") != 0) return fail(ACL_ERROR_INVALID_PARAM, "unknown package");
    strcpy(versionStr, "8.0.RC3");
    return ACL_SUCCESS;
}

aclError aclsysGetVersionNum(char *pkgName, int32_t *versionNum) {
    if (strcmp(pkgName, "CANN") != 0) return fail(ACL_ERROR_INVALID_PARAM, "unknown package");
    *versionNum = 80003;
    return ACL_SUCCESS;
}

#endif /* FLEXSIM_DOUBLE_OLD_RELEASE */
