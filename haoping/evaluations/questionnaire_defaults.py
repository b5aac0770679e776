"""The default questionnaire (R8, R9): the options every region asks until it edits its own.

Migration 0014 seeds these as the root's sets (region blank); the selector falls back to them
for a kind whose default set is missing from the database altogether. Per kind, the dimensions
GB/T 39735 6.1 lists (政务服务机构: 事项管理、办事流程、服务规范、服务效率、便民度; 政务服务平台:
便捷性、完善性; 工作人员: 服务态度、业务能力、服务水平) and Ezhou rules 11 for on-site service
(服务态度、服务质量、服务效率、服务环境); 51号 三(二)'s online questionnaire (R8: guide clear,
procedure convenient, materials streamlined, interface friendly) sits under the dimension each
question belongs to. The reason tags that existed before the sets keep their keys, so stored
ratings keep their labels; 服务态度差 is offered for the unit as well as its staff (a key offered
by two sets that apply together is one option), so every service can be told off for it.

The evalDetail codes of the national content catalogue are not published in the sources
(field notes §1c): none is given here; a region enters them from its platform's norm list in the
admin, and until then the region's code table maps the keys (docs/questionnaires.md).

Each entry: (role, key, Chinese label, dimension). Order is the list's.
"""

from __future__ import annotations

from haoping.evaluations.rules import INSTITUTION, ONSITE, PLATFORM, QUESTION, REASON, STAFF

DEFAULT_SETS: dict[str, list[tuple[str, str, str]]] = {
    INSTITUTION: [
        (QUESTION, "guide_clear", "办事指南清晰明了（事项管理）"),
        (QUESTION, "procedure_convenient", "办事流程便捷（办事流程）"),
        (QUESTION, "materials_streamlined", "申请材料精简（办事流程）"),
        (QUESTION, "service_norms", "服务规范、公开透明（服务规范）"),
        (QUESTION, "service_efficiency", "办理及时、效率高（服务效率）"),
        (QUESTION, "convenience", "办事方便、少跑腿（便民度）"),
        (REASON, "guidance", "办事指引不清晰"),
        (REASON, "process", "办事流程繁琐"),
        (REASON, "materials", "要求提交的材料过多"),
        (REASON, "irregular", "办事不规范、不透明"),
        (REASON, "attitude", "服务态度差"),
        (REASON, "efficiency", "办理慢、等候时间长"),
        (REASON, "repeat_visits", "多次往返跑腿"),
        (REASON, "other", "其他"),
    ],
    PLATFORM: [
        (QUESTION, "interface_friendly", "界面友好易用（便捷性）"),
        (QUESTION, "platform_complete", "功能完善、能在网上办成（完善性）"),
        (REASON, "system", "网上办事系统不好用"),
        (REASON, "platform_incomplete", "功能不全、无法在网上办成"),
    ],
    STAFF: [
        (QUESTION, "staff_attitude", "工作人员服务态度（服务态度）"),
        (QUESTION, "staff_competence", "工作人员业务熟练（业务能力）"),
        (QUESTION, "staff_level", "工作人员讲解清楚、一次告知（服务水平）"),
        (REASON, "attitude", "服务态度差"),
        (REASON, "competence", "业务不熟练"),
        (REASON, "not_told_once", "未一次性告知"),
    ],
    ONSITE: [
        (QUESTION, "onsite_attitude", "现场服务热情周到（态度）"),
        (QUESTION, "onsite_quality", "现场服务质量好（质量）"),
        (QUESTION, "onsite_efficiency", "现场排队等候时间短（效率）"),
        (QUESTION, "onsite_environment", "大厅环境整洁、设施齐全（环境）"),
        (REASON, "environment", "服务环境或设施差"),
        (REASON, "queue", "排队等候时间长"),
    ],
}

DEFAULT_NAMES = {
    INSTITUTION: "政务服务机构（部门）评价内容",
    PLATFORM: "政务服务平台评价内容",
    STAFF: "工作人员评价内容",
    ONSITE: "现场服务评价内容",
}


def default_labels(role: str) -> dict[str, str]:
    """Every key of `role` in the default sets → its label (the API's documentation lists them)."""
    labels: dict[str, str] = {}
    for options in DEFAULT_SETS.values():
        for r, key, label in options:
            if r == role:
                labels.setdefault(key, label)
    return labels
