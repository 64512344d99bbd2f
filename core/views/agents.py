from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from core.forms.agents import AgentForm
from core.models import Agent
from core.roles import Action
from core.services.agents import invite_agent, update_agent
from core.views.decorators import agent_required


@agent_required(Action.MANAGE_AGENTS)
def agent_list(request: HttpRequest) -> HttpResponse:
    agents = Agent.objects.annotate(file_count=Count("referent_files")).order_by(
        "-is_active", "last_name", "first_name", "id"
    )
    return render(request, "core/agents/list.html", {"agents": agents})


@agent_required(Action.MANAGE_AGENTS)
def agent_invite(request: HttpRequest) -> HttpResponse:
    form = AgentForm(request.POST or None, acting_agent=request.user)
    if request.method == "POST" and form.is_valid():
        agent = invite_agent(request.user, **form.cleaned_data)
        messages.success(
            request,
            f"{agent.full_name} est invité·e. Un e-mail lui a été envoyé à {agent.email} ; "
            "la personne peut se connecter dès maintenant avec ProConnect.",
        )
        return redirect("core:agent_list")
    return render(request, "core/agents/form.html", {"form": form, "creating": True})


@agent_required(Action.MANAGE_AGENTS)
def agent_edit(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = get_object_or_404(Agent, pk=agent_id)
    form = AgentForm(request.POST or None, instance=agent, acting_agent=request.user)
    if request.method == "POST" and form.is_valid():
        update_agent(request.user, agent, **form.cleaned_data)
        messages.success(request, "Les modifications ont été enregistrées.")
        return redirect("core:agent_list")
    return render(request, "core/agents/form.html", {"form": form, "agent": agent})


@agent_required()
def my_account(request: HttpRequest) -> HttpResponse:
    return render(request, "core/account.html")


@agent_required()
def home(request: HttpRequest) -> HttpResponse:
    return redirect("core:dashboard")
