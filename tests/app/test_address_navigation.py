"""Back and Forward apply the address they arrive at, lessons included, and the batch box keeps
a typed batch within the data set in the page itself (``app/configuration/address.py``,
``app/controls/sidebar.py``).
"""

from __future__ import annotations

from app.configuration.address import link_values


def test_back_onto_another_lesson_keeps_the_values_its_address_carries(rendered):
    dashboard = rendered()
    # the student chose a lesson: its settings apply
    dashboard.sidebar.lesson_select.value = "rank-1"
    assert dashboard.settings.architecture == "2-8-8-1"
    assert dashboard.settings.view == "rank"

    # Back to an entry written while another lesson ran with two settings changed by hand
    dashboard.apply_link(link_values("?lesson=rank-r&architecture=2-12-12-1&view=spectrum"))

    s = dashboard.settings
    assert (s.lesson, s.architecture, s.view) == ("rank-r", "2-12-12-1", "spectrum")
    assert s.batch_size == 4  # rank-r's own value, which the address did not change
    assert dashboard.session.layer_sizes == (2, 12, 12, 1)
    assert dashboard.sidebar.lesson_select.value == "rank-r"  # the menu shows the lesson in force
    assert dashboard.main.lesson_box.visible


def test_arriving_at_an_address_does_not_restart_training_a_lesson_choice_would(rendered):
    dashboard = rendered(lesson="weyl")
    for _ in range(5):
        dashboard.step()
    # eq46 and weyl share the model; only the lesson key, scope and batch differ
    dashboard.apply_link(link_values("?lesson=eq46&batch_size=8&scope=batch"))
    assert dashboard.settings.lesson == "eq46"
    assert (dashboard.settings.scope, dashboard.settings.batch_size) == ("batch", 8)
    assert dashboard.session.step == 5  # same session, same model: training goes on

    dashboard.sidebar.lesson_select.value = "weyl"  # a student's choice starts the lesson afresh
    assert dashboard.session.step == 0


def test_the_batch_box_goes_up_to_the_number_of_samples(rendered):
    dashboard = rendered(samples=200)
    box = dashboard.sidebar.widgets["batch_size"]
    assert box.end == 200
    dashboard.settings.samples = 64
    assert box.end == 64
    assert dashboard.settings.batch_size <= 64
    dashboard.settings.samples = 5000  # more samples than the largest batch
    assert box.end == dashboard.settings.param["batch_size"].bounds[1]
