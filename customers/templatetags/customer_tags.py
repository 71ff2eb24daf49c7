from django import template

from customers.selectors import open_task_count as count_open_tasks

register = template.Library()


@register.simple_tag(takes_context=True)
def open_task_count(context) -> int:
    """The badge beside "My tasks" in the navigation."""
    user = context["request"].user
    if not user.is_authenticated or not user.has_perm("customers.view_task"):
        return 0
    return count_open_tasks(user)
