/*
 * Test double for libdcmi.so: exports the DCMI symbols flexsim-calibrate binds, with the C
 * signatures of calibration.md §4.4, returning known values. Queries before dcmi_init fail.
 *
 * Two cards with one chip each; logical id = 1 - card (so a binding that confuses enumeration
 * order with logical ids reads the wrong chip). Chip "Ascend" + "910B3", 20 AI cores on logical
 * 0 and 24 on logical 1; utilisation type 13 (whole NPU) = 90 %, type 2 (AI Core) = 80 %.
 *
 * With -DFLEXSIM_DOUBLE_OLD_RELEASE it lacks dcmi_get_device_chip_info and
 * dcmi_get_device_utilization_rate.
 */
#include <string.h>

#define DCMI_ERR_BASE (-8000)
#define DCMI_ERR_NOT_INIT (DCMI_ERR_BASE - 1)
#define DCMI_ERR_INVALID (DCMI_ERR_BASE - 2)
#define DCMI_ERR_NOT_SUPPORTED (DCMI_ERR_BASE - 255)

static int initialised = 0;

int dcmi_init(void) {
    initialised = 1;
    return 0;
}

int dcmi_get_card_list(int *card_num, int *card_list, int list_len) {
    if (!initialised) return DCMI_ERR_NOT_INIT;
    if (list_len < 2) return DCMI_ERR_INVALID;
    *card_num = 2;
    card_list[0] = 0;
    card_list[1] = 1;
    return 0;
}

int dcmi_get_device_num_in_card(int card_id, int *device_num) {
    if (!initialised) return DCMI_ERR_NOT_INIT;
    if (card_id < 0 || card_id > 1) return DCMI_ERR_INVALID;
    *device_num = 1;
    return 0;
}

int dcmi_get_device_logic_id(int *logic_id, int card_id, int device_id) {
    if (!initialised) return DCMI_ERR_NOT_INIT;
    if (card_id < 0 || card_id > 1 || device_id != 0) return DCMI_ERR_INVALID;
    *logic_id = 1 - card_id;
    return 0;
}

#ifndef FLEXSIM_DOUBLE_OLD_RELEASE

#define MAX_CHIP_NAME_LEN 32
struct dcmi_chip_info {
    unsigned char chip_type[MAX_CHIP_NAME_LEN];
    unsigned char chip_name[MAX_CHIP_NAME_LEN];
    unsigned char chip_ver[MAX_CHIP_NAME_LEN];
    unsigned int aicore_cnt;
};

int dcmi_get_device_chip_info(int card_id, int device_id, struct dcmi_chip_info *chip_info) {
    if (!initialised) return DCMI_ERR_NOT_INIT;
    if (card_id < 0 || card_id > 1 || device_id != 0) return DCMI_ERR_INVALID;
    memset(chip_info, 0, sizeof *chip_info);
    strcpy((char *)chip_info->chip_type, "Ascend");
    strcpy((char *)chip_info->chip_name, "910B3");
    strcpy((char *)chip_info->chip_ver, "V1");
    /* logical 0 is card 1 */
    chip_info->aicore_cnt = card_id == 1 ? 20 : 24;
    return 0;
}

int dcmi_get_device_utilization_rate(int card_id, int device_id, int input_type, unsigned int *rate) {
    if (!initialised) return DCMI_ERR_NOT_INIT;
    if (card_id < 0 || card_id > 1 || device_id != 0) return DCMI_ERR_INVALID;
    switch (input_type) {
    case 13: *rate = 90; return 0;
    case 2: *rate = 80; return 0;
    default: return DCMI_ERR_NOT_SUPPORTED;
    }
}

#endif /* FLEXSIM_DOUBLE_OLD_RELEASE */
